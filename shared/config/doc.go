// Package config reads a function's settings from environment variables at cold start
// and reports every missing or malformed variable in one error, so a bad deployment
// fails once, loudly and completely, instead of one variable per redeploy.
package config
