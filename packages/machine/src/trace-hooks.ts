import type { AccessSize, InterruptSource, PortBus, Tracer } from '@unimachine/core';

const hex = (n: number, digits = 0) => '0x' + (n >>> 0).toString(16).padStart(digits, '0');
const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;

/**
 * `--trace io,pci,int`: wrap the port bus and the CPU's interrupt source so each access or
 * interrupt is one trace line. Nothing is wrapped for a category that is off, so tracing costs
 * nothing unless asked for.
 */
export function installTraceHooks(trace: Tracer, ports: PortBus, interrupts: InterruptSource | undefined): void {
  const io = trace.on('io');
  const pci = trace.on('pci');
  if (io || pci) {
    let configAddress = 0;
    const configTarget = () =>
      `${hex((configAddress >>> 16) & 0xff, 2).slice(2)}:${hex((configAddress >>> 11) & 31, 2).slice(2)}.${(configAddress >>> 8) & 7} reg ${hex(configAddress & 0xfc, 2)}`;
    const read = ports.read.bind(ports);
    const write = ports.write.bind(ports);
    ports.observed = true; // every access through here, none through the devices' fast paths
    ports.read = (port: number, size: AccessSize) => {
      const value = read(port, size);
      if (io) trace.log('io', `in${size * 8} ${hex(port, 4)} -> ${hex(value)}`);
      if (pci && port >= CONFIG_DATA && port < CONFIG_DATA + 4 && configAddress & 0x8000_0000) {
        trace.log('pci', `config read ${configTarget()}+${port - CONFIG_DATA} (${size}) -> ${hex(value)}`);
      }
      return value;
    };
    ports.write = (port: number, size: AccessSize, value: number) => {
      if (io) trace.log('io', `out${size * 8} ${hex(port, 4)} <- ${hex(value)}`);
      if (port === CONFIG_ADDRESS && size === 4) configAddress = value >>> 0;
      if (pci && port >= CONFIG_DATA && port < CONFIG_DATA + 4 && configAddress & 0x8000_0000) {
        trace.log('pci', `config write ${configTarget()}+${port - CONFIG_DATA} (${size}) <- ${hex(value)}`);
      }
      write(port, size, value);
    };
  }
  if (interrupts && trace.on('int')) {
    const acknowledge = interrupts.acknowledge.bind(interrupts);
    interrupts.acknowledge = () => {
      const vector = acknowledge();
      trace.log('int', `external interrupt, vector ${hex(vector, 2)}`);
      return vector;
    };
  }
}
