/** One rule from a listen address to the host a client asks: the mock's printed URLs and the CLI's defaults share it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { urlHost } from '../src/server/url-host.js';
import { defaultEntitlementUrl } from '../src/cli/request.js';
import { defaultHealthUrl } from '../src/cli/health.js';

test('a wildcard address is asked at a loopback name; IPv6 gets brackets; a name or IPv4 address stays', () => {
  for (const wildcard of ['', '0.0.0.0', '::']) {
    assert.is(urlHost(wildcard), 'localhost');
    assert.is(urlHost(wildcard, '127.0.0.1'), '127.0.0.1');
  }
  assert.is(urlHost('::1'), '[::1]');
  assert.is(urlHost('fd00::5'), '[fd00::5]');
  assert.is(urlHost('10.1.2.3'), '10.1.2.3');
  assert.is(urlHost('mock.test'), 'mock.test');
});

test('the CLI defaults follow EM_HOST and EM_ADMIN_HOST through the same rule', () => {
  assert.is(defaultEntitlementUrl({}), 'https://localhost:8443/entitlement');
  assert.is(defaultEntitlementUrl({ EM_HOST: '::', EM_PORT: '9443', EM_PATH: '/e' }), 'https://localhost:9443/e');
  assert.is(defaultEntitlementUrl({ EM_HOST: '::1' }), 'https://[::1]:8443/entitlement');
  assert.is(defaultHealthUrl({}), 'http://127.0.0.1:8080/health');
  assert.is(defaultHealthUrl({ EM_ADMIN_HOST: '0.0.0.0', EM_ADMIN_PORT: '9090' }), 'http://127.0.0.1:9090/health');
  assert.is(defaultHealthUrl({ EM_ADMIN_HOST: 'fd00::5' }), 'http://[fd00::5]:8080/health');
});

test.run();
