//go:build !unix

package lambdart

import "os/exec"

// setProcessGroup does nothing: the emulator runs on Linux only, and Start is never
// reached elsewhere because FindRIE fails first.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the emulator process.
func killProcessGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
