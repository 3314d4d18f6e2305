/**
 * IP allowlists with ipaddr.js (IPv4, IPv6, IPv4-mapped IPv6), checked in process so a cached key
 * needs no round trip. Stored form: canonical network strings (`203.0.113.0/24`, `2001:db8::/32`);
 * an IPv4-mapped range (`::ffff:10.0.0.0/104`) is stored as its IPv4 form, and a request from
 * `::ffff:10.1.2.3` (a dual-stack socket) is matched as `10.1.2.3`. An empty list allows any address.
 */
import ipaddr from 'ipaddr.js';
import { AuthError } from '../errors.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
export type CidrList = readonly [Address, number][];
export const MAX_ALLOWED_CIDRS = 100;

/** Validates and canonicalises user input; refuses host bits, zone ids and odd IPv4 notations. */
export function canonicalCidrs(input: readonly string[]): string[] {
  if (input.length > MAX_ALLOWED_CIDRS) throw invalid(`At most ${MAX_ALLOWED_CIDRS} ranges.`);
  const out = new Set<string>();
  for (const raw of input) out.add(canonicalCidr(raw.trim()));
  return [...out];
}

function canonicalCidr(text: string): string {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(addressText);
  if (!isV4 && (!ipaddr.IPv6.isValid(addressText) || addressText.includes('%')))
    throw invalid(`"${text.slice(0, 43)}" is not an IP address or range.`);
  const address: Address = isV4 ? ipaddr.IPv4.parse(addressText) : ipaddr.IPv6.parse(addressText);
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : Number.NaN;
  if (!(bits >= 0 && bits <= max))
    throw invalid(`"${text.slice(0, 43)}" has an invalid prefix length.`);
  const [network, prefix] = normalise(address, bits);
  const canonical = `${network.toString()}/${prefix}`;
  if (!sameAddress(network, networkOf(network, prefix)))
    throw invalid(
      `"${text.slice(0, 43)}" has host bits set; did you mean ${networkOf(network, prefix).toString()}/${prefix}?`,
    );
  return canonical;
}

/** Parses stored canonical strings once (cached with the verified key). */
export function compileCidrs(stored: readonly string[]): CidrList {
  return stored.map((entry) => ipaddr.parseCIDR(entry));
}

/** True when the list is empty or the request address falls in one of its ranges. */
export function ipAllowed(list: CidrList, ip: string): boolean {
  if (list.length === 0) return true;
  if (!ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip); // ::ffff:a.b.c.d -> a.b.c.d
  return list.some((range) => range[0].kind() === address.kind() && address.match(range));
}

function normalise(address: Address, bits: number): [Address, number] {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

function networkOf(address: Address, bits: number): Address {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i += 1) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes);
}

function sameAddress(a: Address, b: Address): boolean {
  return a.kind() === b.kind() && a.toNormalizedString() === b.toNormalizedString();
}

function invalid(detail: string): AuthError {
  return new AuthError('invalid_input', { field: 'allowedCidrs', detail });
}
