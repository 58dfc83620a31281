#!/bin/sh
# Builds the firmware-dump guest (32-bit multiboot ELF) into $1 (default: a temp file).
set -e
here=$(dirname "$0")
out=${1:-/tmp/fwdump.elf}
flags="-m32 -march=i386 -mgeneral-regs-only -ffreestanding -nostdlib -fno-pic -no-pie -static -O2 -fno-stack-protector -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -Wall -Wextra"
gcc $flags -c "$here/start.S" -o "$out.start.o"
gcc $flags -c "$here/dump.c" -o "$out.dump.o"
ld -m elf_i386 -nostdlib -static --build-id=none -z noexecstack --no-warn-rwx-segments -T "$here/linker.ld" -o "$out" "$out.start.o" "$out.dump.o"
rm -f "$out.start.o" "$out.dump.o"
