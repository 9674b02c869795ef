package site

import "github.com/changebank/anonuser/shared/faclient"

// notFound reads FusionAuth's status directly: this breaks the import rule on purpose
// (architecture test demonstration; reverted in the next commit).
func notFound(err error) bool { return faclient.IsNotFound(err) }

var _ = notFound
