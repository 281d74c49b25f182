import { describe, expect, it } from 'vitest';
import { PortAllocator, parsePortRange } from '../../../gateway/media/ports.js';
import { MediaError } from '../../../gateway/media/types.js';

const ok = async (port: number) => port;
const inUse = (busy: Set<number>) => async (port: number) => {
  if (busy.has(port)) throw Object.assign(new Error('busy'), { code: 'EADDRINUSE' });
  return port;
};

describe('PortAllocator', () => {
  it('gives even RTP ports for pairs and holds port+1 too', async () => {
    const ports = new PortAllocator({ from: 20001, to: 20010 });
    const a = await ports.allocate('even-pair', ok);
    const b = await ports.allocate('even-pair', ok);
    expect(a.port).toBe(20002);
    expect(b.port).toBe(20004);
    expect(ports.inUse).toBe(4);
  });

  it('starts at the first port given (a replacement media worker), wrapping round; out of range: the start', async () => {
    const ports = new PortAllocator({ from: 20000, to: 20009 }, 20007);
    expect((await ports.allocate('single', ok)).port).toBe(20007);
    expect((await ports.allocate('even-pair', ok)).port).toBe(20008);
    expect((await ports.allocate('single', ok)).port).toBe(20000);
    expect((await new PortAllocator({ from: 20000, to: 20009 }, 30000).allocate('single', ok)).port).toBe(20000);
  });

  it('never hands out a port it already holds', async () => {
    const ports = new PortAllocator({ from: 30000, to: 30003 });
    const got = [
      (await ports.allocate('single', ok)).port,
      (await ports.allocate('single', ok)).port,
      (await ports.allocate('single', ok)).port,
      (await ports.allocate('single', ok)).port,
    ];
    expect(new Set(got).size).toBe(4);
    await expect(ports.allocate('single', ok)).rejects.toMatchObject({ code: 'no-ports' });
  });

  it('skips ports the OS reports in use (EADDRINUSE)', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40005 });
    const a = await ports.allocate('even-pair', inUse(new Set([40000, 40002])));
    expect(a.port).toBe(40004);
  });

  it('throws MediaError no-ports when the range is exhausted', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40003 });
    await ports.allocate('even-pair', ok);
    await ports.allocate('even-pair', ok);
    const err = await ports.allocate('even-pair', ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('no-ports');
  });

  it('a pair never straddles the end of the range', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40002 });
    await ports.allocate('even-pair', ok);
    await expect(ports.allocate('even-pair', ok)).rejects.toMatchObject({ code: 'no-ports' });
  });

  it('free() returns ports to the pool, idempotently', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40001 });
    const a = await ports.allocate('even-pair', ok);
    ports.free(a.port, 'even-pair');
    ports.free(a.port, 'even-pair');
    expect(ports.inUse).toBe(0);
    expect((await ports.allocate('even-pair', ok)).port).toBe(40000);
  });

  it('rotates: a freed port is not reused while others are free', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40009 });
    const a = await ports.allocate('single', ok);
    ports.free(a.port, 'single');
    expect((await ports.allocate('single', ok)).port).toBe(40001);
  });

  it('propagates errors other than EADDRINUSE and releases the port', async () => {
    const ports = new PortAllocator({ from: 40000, to: 40001 });
    await expect(
      ports.allocate('single', async () => {
        throw Object.assign(new Error('nope'), { code: 'EACCES' });
      }),
    ).rejects.toThrow('nope');
    expect(ports.inUse).toBe(0);
  });

  it('parses "from-to" and rejects nonsense', () => {
    expect(parsePortRange('20000-20999')).toEqual({ from: 20000, to: 20999 });
    expect(() => parsePortRange('20999-20000')).toThrow(/bad port range/);
    expect(() => parsePortRange('abc')).toThrow(/bad port range/);
  });
});
