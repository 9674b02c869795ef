[#if (state.anon_user)??]
Thanks for trying ChangeBank.

You asked to keep the profile you built while browsing. Set a password to finish creating your account; everything you did so far stays with it:
[#else]
Someone asked to change the password of your ChangeBank account. If it was you, choose a new one here:
[/#if]

${baseUrl}/password/change/${changePasswordId}?tenantId=${user.tenantId}[#if (state.anon_user)??]&anon_user=${state.anon_user?url}[/#if]

This link works once and expires soon. If you did not ask for it, ignore this email.
