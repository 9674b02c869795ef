<p>Someone, probably you, asked ChangeBank to create an account with this email address. There already is a ChangeBank account with this address, so nothing new was created.</p>
<p><a href="${requestData.signInURL}">Sign in to your account</a></p>
<p>Forgotten your password? Choose "Forgot your password?" on the sign-in page and we will send you a link to set a new one.</p>
<p>If this was not you, ignore this email: your account has not changed.</p>
