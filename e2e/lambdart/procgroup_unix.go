//go:build unix

package lambdart

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the emulator in its own process group, which the function it
// starts joins, so one signal stops both.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the emulator's process group: the emulator and its function.
// A group that is already gone is not an error.
func killProcessGroup(cmd *exec.Cmd) error {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
