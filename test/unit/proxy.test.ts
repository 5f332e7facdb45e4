import { describe, expect, it } from 'vitest';
import { NoProxy, parseProxyUrl, ProxyRoutes, proxySettingsFromEnv } from '../../functions/oci/proxy.js';

describe('NO_PROXY matching (Go httpproxy semantics)', () => {
  const cases: [string, string, number, boolean][] = [
    // [NO_PROXY, host, port, direct?]
    ['', 'registry.example', 443, false],
    ['*', 'registry.example', 443, true],
    ['foo.com', 'foo.com', 443, true],
    ['foo.com', 'bar.foo.com', 443, true],
    ['foo.com', 'barfoo.com', 443, false],
    ['foo.com', 'foo.com.evil', 443, false],
    ['.foo.com', 'foo.com', 443, false],
    ['.foo.com', 'bar.foo.com', 443, true],
    ['*.foo.com', 'foo.com', 443, false],
    ['*.foo.com', 'a.b.foo.com', 443, true],
    ['FOO.com', 'Bar.FOO.com', 443, true],
    ['foo.com.', 'foo.com', 443, true],
    ['foo.com', 'foo.com.', 443, true],
    [' a.com , foo.com ', 'foo.com', 443, true],
    ['foo.com:5000', 'foo.com', 5000, true],
    ['foo.com:5000', 'foo.com', 443, false],
    ['.foo.com:5000', 'x.foo.com', 5000, true],
    ['10.1.2.3', '10.1.2.3', 443, true],
    ['10.1.2.3', '10.1.2.4', 443, false],
    ['10.1.2.3:5000', '10.1.2.3', 5000, true],
    ['10.1.2.3:5000', '10.1.2.3', 443, false],
    ['10.0.0.0/8', '10.200.1.1', 443, true],
    ['10.0.0.0/8', '11.0.0.1', 443, false],
    // CIDRs match IP literals only: names are not resolved for NO_PROXY.
    ['10.0.0.0/8', 'ten.example', 443, false],
    ['fd00::/8', '[fd12::1]', 443, true],
    ['fd00::/8', 'fe80::1', 443, false],
    ['[2001:db8::1]:5000', '[2001:db8::1]', 5000, true],
    ['[2001:db8::1]:5000', '[2001:db8::1]', 443, false],
    ['2001:db8::1', '2001:db8::1', 443, true],
    ['2001:db8::1', '2001:0db8:0:0::1', 443, true],
    // Loopback is always direct (Go's rule), whatever NO_PROXY says.
    ['', 'localhost', 443, true],
    ['', 'registry.localhost', 443, true],
    ['', '127.0.0.1', 5000, true],
    ['', '127.9.9.9', 5000, true],
    ['', '[::1]', 5000, true],
    ['', '::ffff:127.0.0.1', 5000, true],
    ['', '128.0.0.1', 5000, false],
    // Malformed entries are skipped, not fatal.
    [':5000,,foo.com', 'foo.com', 443, true],
    // An entry whose port is empty or not a number names nothing (not "any port").
    ['foo.com:', 'foo.com', 443, false],
    ['foo.com:https', 'foo.com', 443, false],
    ['[2001:db8::1]:', '[2001:db8::1]', 443, false],
    ['[2001:db8::1]', '[2001:db8::1]', 443, true],
    ['foo.com:99999', 'foo.com', 443, false],
    ['10.0.0.0/99', '10.0.0.1', 443, false],
  ];
  it.each(cases)('NO_PROXY=%j, %s:%d → direct %s', (noProxy, host, port, direct) => {
    expect(new NoProxy(noProxy).bypasses(host, port)).toBe(direct);
  });
});

describe('proxy settings from the environment', () => {
  it('reads the scheme variables, lower-case winning as in curl', () => {
    expect(
      proxySettingsFromEnv({
        HTTPS_PROXY: 'http://upper:1',
        https_proxy: 'http://lower:1',
        HTTP_PROXY: 'http://h:2',
        NO_PROXY: 'a',
        no_proxy: 'b',
      }),
    ).toEqual({ httpsProxy: 'http://lower:1', httpProxy: 'http://h:2', noProxy: 'b' });
  });
  it('takes the upper-case form when the lower-case one is unset or empty', () => {
    expect(proxySettingsFromEnv({ HTTPS_PROXY: 'http://upper:1', https_proxy: ' ', NO_PROXY: 'a' })).toEqual({
      httpsProxy: 'http://upper:1',
      httpProxy: undefined,
      noProxy: 'a',
    });
  });
  it('falls back to ALL_PROXY for a scheme without its own variable', () => {
    expect(proxySettingsFromEnv({ ALL_PROXY: 'http://all:3', https_proxy: 'http://s:1' })).toEqual({
      httpsProxy: 'http://s:1',
      httpProxy: 'http://all:3',
      noProxy: undefined,
    });
    expect(proxySettingsFromEnv({ ALL_PROXY: 'http://upper:3', all_proxy: 'http://lower:3' }).httpsProxy).toBe(
      'http://lower:3',
    );
  });
  it('is empty without variables', () => {
    expect(new ProxyRoutes(proxySettingsFromEnv({})).enabled).toBe(false);
  });
});

describe('proxy URLs', () => {
  it('take credentials for Proxy-Authorization and leave them out of the URL', () => {
    const proxy = parseProxyUrl('http://us%65r:p%40ss@proxy.corp:3128');
    expect(proxy.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(proxy.url.href).toBe('http://proxy.corp:3128/');
    expect([proxy.host, proxy.port]).toEqual(['proxy.corp', 3128]);
  });
  it('default to http:// and port 80 (curl, Go)', () => {
    const proxy = parseProxyUrl('proxy.corp');
    expect([proxy.url.href, proxy.port, proxy.authorization]).toEqual(['http://proxy.corp/', 80, undefined]);
    expect(parseProxyUrl('[::1]:3128').host).toBe('::1');
  });
  it('refuse schemes other than http://, naming the variable and never echoing the password', () => {
    expect(() => parseProxyUrl('socks5://u:secret@proxy:1080', 'HTTPS_PROXY')).toThrow(
      /HTTPS_PROXY: socks5:\/\/ proxies are not supported/,
    );
    expect(() => parseProxyUrl('https://proxy:443', 'HTTPS_PROXY')).toThrow(/not supported/);
    let message = '';
    try {
      parseProxyUrl('http://u:secret@[bad', 'HTTP_PROXY');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^HTTP_PROXY: "http:\/\/\[bad" is not a proxy URL$/);
  });
});

describe('proxy routes', () => {
  const routes = new ProxyRoutes({
    httpsProxy: 'http://s.proxy:3128',
    httpProxy: 'http://h.proxy:3128',
    noProxy: 'internal.example,10.0.0.0/8',
  });
  it.each([
    ['https://registry.example/v2/', 's.proxy'],
    ['http://registry.example:5000/v2/', 'h.proxy'],
    ['https://internal.example/v2/', undefined],
    ['https://a.internal.example/v2/', undefined],
    ['http://10.1.1.1:5000/v2/', undefined],
    ['https://127.0.0.1:5000/v2/', undefined],
    ['http://localhost:5000/v2/', undefined],
  ])('%s → %s', (url, proxyHost) => {
    expect(routes.forUrl(new URL(url))?.host).toBe(proxyHost);
  });
  it('fail at start-up on an unusable proxy, naming the variables', () => {
    expect(() => new ProxyRoutes(proxySettingsFromEnv({ ALL_PROXY: 'socks5://proxy:1080' }))).toThrow(
      /^HTTPS?_PROXY \(or ALL_PROXY\): socks5:\/\/ proxies are not supported/,
    );
  });
  it('use no proxy for a scheme without one (Go and curl do not fall back to HTTP_PROXY for https)', () => {
    expect(
      new ProxyRoutes({ httpProxy: 'http://h.proxy:3128' }).forUrl(new URL('https://registry.example/')),
    ).toBeUndefined();
  });
});
