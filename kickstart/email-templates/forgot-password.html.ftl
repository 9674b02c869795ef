[#if (state.anon_user)??]
<p>Thanks for trying ChangeBank.</p>
<p>You asked to keep the profile you built while browsing. Set a password to finish creating your account; everything you did so far stays with it.</p>
<p><a href="${baseUrl}/password/change/${changePasswordId}?tenantId=${user.tenantId}&anon_user=${state.anon_user?url}">Set your password</a></p>
[#else]
<p>Someone asked to change the password of your ChangeBank account. If it was you, choose a new one:</p>
<p><a href="${baseUrl}/password/change/${changePasswordId}?tenantId=${user.tenantId}">Change your password</a></p>
[/#if]
<p>This link works once and expires soon. If you did not ask for it, ignore this email.</p>
