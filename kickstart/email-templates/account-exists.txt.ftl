Someone, probably you, asked ChangeBank to create an account with this email address. There already is a ChangeBank account with this address, so nothing new was created.

Sign in to your account:

${requestData.signInURL}

Forgotten your password? Choose "Forgot your password?" on the sign-in page and we will send you a link to set a new one.

If this was not you, ignore this email: your account has not changed.
