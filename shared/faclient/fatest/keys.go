package fatest

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// keyRecord is a Key Master key. Its id is the UUID callers use (vend keyId, webhook
// signingKeyId, accessTokenKeyId); its kid is what JWT headers and the JWKS carry: for an
// asymmetric key the base64url SHA-1 thumbprint of its certificate (= x5t), for an HMAC
// key a short random string.
type keyRecord struct {
	id, kid, name, algorithm, keyType, issuer string
	length                                    int
	signer                                    crypto.Signer // RSA private key; nil for HMAC
	secret                                    []byte        // HMAC secret
	certDER                                   []byte
	cert                                      *x509.Certificate
	insertInstant                             int64
}

func (k *keyRecord) asymmetric() bool { return k.signer != nil }

// keyMaterial is what is expensive to generate: cached per (id, algorithm, length,
// issuer) for the whole process, so many test servers reuse the same RSA keys.
type keyMaterial struct {
	once    sync.Once
	signer  crypto.Signer
	certDER []byte
	cert    *x509.Certificate
	err     error
}

var keyCache struct {
	mu sync.Mutex
	m  map[string]*keyMaterial
}

// generateKeyMaterial returns (cached) key material for an asymmetric algorithm.
func generateKeyMaterial(id, algorithm string, length int, issuer string) (*keyMaterial, error) {
	cacheKey := fmt.Sprintf("%s|%s|%d|%s", id, algorithm, length, issuer)
	keyCache.mu.Lock()
	if keyCache.m == nil {
		keyCache.m = map[string]*keyMaterial{}
	}
	km := keyCache.m[cacheKey]
	if km == nil {
		km = &keyMaterial{}
		keyCache.m[cacheKey] = km
	}
	keyCache.mu.Unlock()
	km.once.Do(func() {
		km.signer, km.certDER, km.cert, km.err = newKeyPair(algorithm, length, issuer)
	})
	if km.err != nil {
		return nil, km.err
	}
	return km, nil
}

// newKeyPair generates a private key and a self-signed certificate for it.
func newKeyPair(algorithm string, length int, issuer string) (crypto.Signer, []byte, *x509.Certificate, error) {
	var signer crypto.Signer
	var sigAlg x509.SignatureAlgorithm
	var err error
	switch algorithm {
	case "RS256", "RS384", "RS512":
		signer, err = rsa.GenerateKey(rand.Reader, length)
		sigAlg = map[string]x509.SignatureAlgorithm{"RS256": x509.SHA256WithRSA, "RS384": x509.SHA384WithRSA, "RS512": x509.SHA512WithRSA}[algorithm]
	default:
		return nil, nil, nil, fmt.Errorf("generate key: unsupported algorithm %q", algorithm)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate %s key: %w", algorithm, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	// Certificate validity uses the real clock: it is about the certificate, not about
	// the instants tests move.
	notBefore := time.Now().Add(-time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{CommonName: issuer},
		Issuer:             pkix.Name{CommonName: issuer},
		NotBefore:          notBefore,
		NotAfter:           notBefore.AddDate(10, 0, 0),
		SignatureAlgorithm: sigAlg,
		KeyUsage:           x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse certificate: %w", err)
	}
	return signer, der, cert, nil
}

// b64url is unpadded base64url, as JOSE uses it.
func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// x5t is the base64url SHA-1 thumbprint of a certificate's DER.
func x5t(der []byte) string {
	sum := sha1.Sum(der)
	return b64url(sum[:])
}

// x5tS256 is the base64url SHA-256 thumbprint of a certificate's DER.
func x5tS256(der []byte) string {
	sum := sha256.Sum256(der)
	return b64url(sum[:])
}

// fingerprint renders a digest as colon-separated upper-case hex.
func fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// publicPEM returns the key's public key as a PEM "PUBLIC KEY" block.
func (k *keyRecord) publicPEM() string {
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// certificatePEM returns the key's certificate as PEM.
func (k *keyRecord) certificatePEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.certDER}))
}

// toJSON is the Key object of the Key API; private keys and secrets are never included.
func (k *keyRecord) toJSON() map[string]any {
	m := map[string]any{
		"id":                k.id,
		"algorithm":         k.algorithm,
		"type":              k.keyType,
		"kid":               k.kid,
		"name":              k.name,
		"hasPrivateKey":     true,
		"insertInstant":     k.insertInstant,
		"lastUpdateInstant": k.insertInstant,
	}
	if !k.asymmetric() {
		return m
	}
	sha1Sum, sha256Sum, md5Sum := sha1.Sum(k.certDER), sha256.Sum256(k.certDER), md5.Sum(k.certDER)
	m["issuer"] = k.issuer
	m["length"] = k.length
	m["publicKey"] = k.publicPEM()
	m["certificate"] = k.certificatePEM()
	m["expirationInstant"] = k.cert.NotAfter.UnixMilli()
	m["certificateInformation"] = map[string]any{
		"issuer":            k.cert.Issuer.String(),
		"subject":           k.cert.Subject.String(),
		"serialNumber":      k.cert.SerialNumber.String(),
		"sha1Fingerprint":   fingerprint(sha1Sum[:]),
		"sha1Thumbprint":    x5t(k.certDER),
		"sha256Fingerprint": fingerprint(sha256Sum[:]),
		"sha256Thumbprint":  x5tS256(k.certDER),
		"md5Fingerprint":    fingerprint(md5Sum[:]),
		"validFrom":         k.cert.NotBefore.UnixMilli(),
		"validTo":           k.cert.NotAfter.UnixMilli(),
	}
	return m
}

// jwk is the key's JSON Web Key (public part), nil for HMAC keys.
func (k *keyRecord) jwk() map[string]any {
	if !k.asymmetric() {
		return nil
	}
	m := map[string]any{
		"alg":      k.algorithm,
		"use":      "sig",
		"kid":      k.kid,
		"x5c":      []any{base64.StdEncoding.EncodeToString(k.certDER)},
		"x5t":      x5t(k.certDER),
		"x5t#S256": x5tS256(k.certDER),
	}
	pub, ok := k.signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil
	}
	m["kty"] = "RSA"
	m["n"] = b64url(pub.N.Bytes())
	m["e"] = b64url(big.NewInt(int64(pub.E)).Bytes())
	return m
}

// rsaLengths are the RSA key lengths FusionAuth generates.
var rsaLengths = []int64{2048, 3072, 4096}

// newHMACKey returns an HS256 key record with a random secret and kid (FusionAuth's
// "Default signing key").
func newHMACKey(id, name string, now int64) *keyRecord {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kid := make([]byte, 5)
	_, _ = rand.Read(kid)
	return &keyRecord{id: id, kid: hex.EncodeToString(kid), name: name, algorithm: "HS256",
		keyType: "HMAC", secret: secret, insertInstant: now}
}

// handleGenerateKey serves POST /api/key/generate[/{keyId}] for RSA keys (the only
// kind the kickstart generates; FusionAuth's EC and HMAC generation is not implemented).
func (s *Server) handleGenerateKey(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
	errs := cr.errs
	kf := fields{m: cr.obj, prefix: "key.", errs: errs}
	name := strings.TrimSpace(kf.str("name"))
	algorithm := kf.str("algorithm")
	length, _ := kf.integer("length")
	issuer := kf.str("issuer")
	switch {
	case algorithm == "":
		errs.field("key.algorithm", "[blank]key.algorithm", "You must specify the [key.algorithm] property.")
	case slices.Contains([]string{"ES256", "ES384", "ES512", "Ed25519", "HS256", "HS384", "HS512"}, algorithm):
		s.writeUnsupported(w, r, "generating a "+algorithm+" key (only RS256, RS384 and RS512)")
		return
	case !slices.Contains([]string{"RS256", "RS384", "RS512"}, algorithm):
		errs.field("key.algorithm", "[invalid]key.algorithm", "The [key.algorithm] property is invalid.")
	case !slices.Contains(rsaLengths, length):
		errs.field("key.length", "[invalid]key.length", "The [key.length] property must be 2048, 3072 or 4096 for an RSA key.")
	}
	s.mu.RLock()
	id := s.checkNewKey(cr.id, name, errs)
	if issuer == "" {
		issuer = asString(s.state.tenants[s.state.defaultTenantID]["issuer"])
	}
	s.mu.RUnlock()
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	// Generation happens outside the lock: RSA keys take a while.
	km, err := generateKeyMaterial(id, algorithm, int(length), issuer)
	if err != nil {
		s.log.Error("fatest: generate key", "id", id, "err", err)
		writeEmpty(w, http.StatusInternalServerError)
		return
	}
	s.storeKey(w, &keyRecord{id: id, kid: x5t(km.certDER), name: name, algorithm: algorithm, issuer: issuer, keyType: "RSA",
		length: int(length), signer: km.signer, certDER: km.certDER, cert: km.cert, insertInstant: s.now().UnixMilli()})
}

// checkNewKey validates the id and name of a key being created and returns its id (the
// requested one, else a fresh UUID). Callers hold s.mu.
func (s *Server) checkNewKey(id, name string, errs *apiErrors) string {
	if name == "" {
		errs.field("key.name", "[blank]key.name", "You must specify the [key.name] property.")
	}
	for _, k := range s.state.keys {
		if name != "" && strings.EqualFold(k.name, name) {
			errs.field("key.name", "[duplicate]key.name", "A Key with name ["+name+"] already exists.")
		}
	}
	return newID(s.state.keys, id, "key.id", "A Key", errs)
}

// storeKey stores a new key, unless another request stored one with its id meanwhile,
// and answers {"key": …}.
func (s *Server) storeKey(w http.ResponseWriter, k *keyRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.keys[k.id] != nil {
		writeErrors(w, http.StatusBadRequest, fieldError("key.id", "[duplicate]key.id", "A Key with Id ["+k.id+"] already exists."))
		return
	}
	s.addKey(k)
	writeJSON(w, http.StatusOK, map[string]any{"key": k.toJSON()})
}

// addKey stores a key. Callers hold s.mu.
func (s *Server) addKey(k *keyRecord) {
	s.state.keys[k.id] = k
	s.state.keyOrder = append(s.state.keyOrder, k.id)
}

// handleGetKey serves GET /api/key/{keyId}.
func (s *Server) handleGetKey(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string) {
	s.mu.RLock()
	k := s.state.keys[id]
	s.mu.RUnlock()
	if k == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": k.toJSON()})
}

// handleJWKS serves GET /.well-known/jwks.json: every asymmetric key, never HMAC secrets.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.mu.RLock()
	keys := []any{}
	for _, id := range s.state.keyOrder {
		if j := s.state.keys[id].jwk(); j != nil {
			keys = append(keys, j)
		}
	}
	s.mu.RUnlock()
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// handleImportKey serves POST /api/key/import[/{keyId}] for an RSA key pair with its
// certificate (the kickstart's webhook signing key): key.privateKey and key.certificate as
// PEM, key.kid optional (default: the certificate's SHA-1 thumbprint, as for generated
// keys). Importing without a certificate, or other kinds of keys, is not implemented.
//
// key.type is required: FusionAuth's Import a Key request body says it "is required if
// importing an HMAC key type, or if importing a public key / private key pair"
// (fusionauth-site apis/_key-import-post-request-body.mdx), and a private key with its
// certificate is a pair (the certificate carries the public key). The code and message
// of FusionAuth's refusal were not found; [blank]key.type is its wording for a missing
// required property elsewhere ([blank]user.password, [blank]webhook.url).
func (s *Server) handleImportKey(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
	errs := cr.errs
	kf := fields{m: cr.obj, prefix: "key.", errs: errs}
	name := strings.TrimSpace(kf.str("name"))
	algorithm := kf.str("algorithm")
	keyType := kf.str("type")
	if !slices.Contains([]string{"RS256", "RS384", "RS512"}, algorithm) || kf.str("certificate") == "" ||
		slices.Contains([]string{"EC", "OKP", "HMAC", "SecretKeyValue"}, keyType) {
		s.writeUnsupported(w, r, "importing a key other than an RS256/384/512 private key (type RSA) with its certificate")
		return
	}
	switch {
	case !kf.present("type"):
		errs.field("key.type", "[blank]key.type", "You must specify the [key.type] property when importing a public key / private key pair.")
	case keyType != "RSA":
		errs.field("key.type", "[invalid]key.type", "The [key.type] property must be one of EC, OKP, RSA, HMAC or SecretKeyValue.")
	}
	priv, cert, err := parseRSAKeyPair(kf.str("privateKey"), kf.str("certificate"))
	if err != nil {
		errs.field("key.privateKey", "[invalid]key.privateKey", "The [key.privateKey] and [key.certificate] properties must be a PEM RSA private key and its certificate: "+err.Error())
	}
	s.mu.RLock()
	id := s.checkNewKey(cr.id, name, errs)
	s.mu.RUnlock()
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	kid := kf.str("kid")
	if kid == "" {
		kid = x5t(cert.Raw)
	}
	s.storeKey(w, &keyRecord{id: id, kid: kid, name: name, algorithm: algorithm, issuer: cert.Issuer.CommonName, keyType: "RSA",
		length: priv.N.BitLen(), signer: priv, certDER: cert.Raw, cert: cert, insertInstant: s.now().UnixMilli()})
}

// parseRSAKeyPair parses a PEM private key (PKCS#8 or PKCS#1) and a PEM certificate and
// checks that they belong together.
func parseRSAKeyPair(keyPEM, certPEM string) (*rsa.PrivateKey, *x509.Certificate, error) {
	kb, _ := pem.Decode([]byte(keyPEM))
	cb, _ := pem.Decode([]byte(certPEM))
	if kb == nil || cb == nil {
		return nil, nil, errors.New("not PEM")
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		priv, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(kb.Bytes); err == nil {
		priv = k
	}
	if priv == nil {
		return nil, nil, errors.New("the private key is not an RSA key")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parse certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		return nil, nil, errors.New("the certificate is not for this private key")
	}
	return priv, cert, nil
}
