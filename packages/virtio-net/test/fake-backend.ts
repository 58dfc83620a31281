import type { NetBackend, NetReceiver } from '@unimachine/core';

/** A network backend for tests: records what the guest sent, injects frames as the network would. */
export class FakeNet implements NetBackend {
  sent: Uint8Array[] = [];
  receiver: NetReceiver | undefined;
  disposed = false;
  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }
  attach(receiver: NetReceiver): void {
    this.receiver = receiver;
  }
  inject(frame: Uint8Array): void {
    this.receiver!.receive(frame);
  }
  dispose(): void {
    this.disposed = true;
  }
}
