#!/bin/sh
# Rebuilds the dump guest and rewrites test/fixtures/qemu-7.2-pc-m256-smp{1,2,4}.txt from QEMU.
set -e
here=$(cd "$(dirname "$0")" && pwd)
elf=$(mktemp /tmp/fwdump.XXXXXX.elf)
"$here/build.sh" "$elf"
for n in 1 2 4; do
	qemu-system-x86_64 -machine pc -accel tcg -cpu Westmere -m 256 -smp $n -nodefaults -display none \
		-serial stdio -device isa-debug-exit -kernel "$elf" > "$here/../fixtures/qemu-7.2-pc-m256-smp$n.txt" || test $? = 1
done
rm -f "$elf"
