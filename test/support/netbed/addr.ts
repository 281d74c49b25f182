// IPv4 helpers for the test bed. The bed only ever uses the documentation ranges of RFC 5737
// (192.0.2.0/24 TEST-NET-1, 198.51.100.0/24 TEST-NET-2, 203.0.113.0/24 TEST-NET-3): never RFC 1918,
// never a real public address.
export const DOC_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] as const;

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new Error(`netbed: "${ip}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function parseCidr(cidr: string): { base: number; bits: number } {
  const [ip, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!ip || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`netbed: "${cidr}" is not an IPv4 CIDR`);
  return { base: ipToInt(ip), bits };
}

export function inCidr(ip: string, cidr: string): boolean {
  const { base, bits } = parseCidr(cidr);
  const size = 2 ** (32 - bits);
  const start = base - (base % size);
  const v = ipToInt(ip);
  return v >= start && v < start + size;
}

/** Throws unless every address of `cidr` lies inside one documentation range. */
export function assertDocCidr(cidr: string, what: string): void {
  const { base, bits } = parseCidr(cidr);
  const ok = DOC_RANGES.some((r) => bits >= 24 && inCidr(intToIp(base), r));
  if (!ok) throw new Error(`netbed: ${what} ${cidr} is outside the documentation ranges ${DOC_RANGES.join(', ')}`);
}

export function assertDocAddress(ip: string, what: string): void {
  if (!DOC_RANGES.some((r) => inCidr(ip, r))) {
    throw new Error(`netbed: ${what} ${ip} is outside the documentation ranges ${DOC_RANGES.join(', ')}`);
  }
}

export function intToIp(v: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}
