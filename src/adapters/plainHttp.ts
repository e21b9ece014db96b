/**
 * Where plain http is acceptable: this machine only. Loopback means 127.0.0.0/8, ::1 and the name
 * `localhost` — a host name that merely starts with `127.` (`127.attacker.example`) is a name like any other.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  const quad = IPV4.exec(host);
  return !!quad && quad.slice(1).every((octet) => Number(octet) <= 255) && quad[1] === '127';
}

/** True for an `http:` URL to a host other than loopback: credentials sent there cross the network in clear. */
export function isInsecureHttp(url: string | URL): boolean {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname);
  } catch {
    return false;
  }
}
