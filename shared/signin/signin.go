package signin

// FusionAuth's OAuth 2.0 and OpenID Connect endpoints, as its discovery document
// (/.well-known/openid-configuration) advertises them; the contract tests check that
// it still does.
const (
	AuthorizePath = "/oauth2/authorize"
	RegisterPath  = "/oauth2/register" // the same parameters, showing the registration form
	TokenPath     = "/oauth2/token"
	LogoutPath    = "/oauth2/logout"
	JWKSPath      = "/.well-known/jwks.json"
)

// Screen is the FusionAuth page a sign-in starts on.
type Screen int

const (
	// Login is FusionAuth's login form (/oauth2/authorize).
	Login Screen = iota
	// Register is FusionAuth's registration form (/oauth2/register), for visitors who
	// have no profile yet.
	Register
)

// Identity is who signed in, from the verified ID token.
type Identity struct {
	UserID string // sub: the FusionAuth user id
	Email  string // email, when the scope granted it
}
