// A Go service that reacts to oomhero's default signals, SIGUSR1 and SIGUSR2.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	cache := map[int][]byte{} // stands in for what the service can rebuild
	for i := 0; i < 1000; i++ {
		cache[i] = make([]byte, 1024)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGUSR2)
	fmt.Println("ready")
	for sig := range signals {
		switch sig {
		case syscall.SIGUSR1: // warning: drop half of the cache
			n := 0
			for k := range cache {
				if n%2 == 0 {
					delete(cache, k)
				}
				n++
			}
			fmt.Printf("warning: cache trimmed to %d entries\n", len(cache))
		case syscall.SIGUSR2: // critical: drop it all and give the memory back to the OS now
			clear(cache)
			debug.FreeOSMemory()
			fmt.Println("critical: cache cleared")
		}
	}
}
