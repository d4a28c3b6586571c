package faultstore

import "path/filepath"

// Volatile is the number of writes to path not yet durable.
func (d *Disk) Volatile(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f := d.files[filepath.Clean(path)]; f != nil {
		return len(f.journal)
	}
	return 0
}
