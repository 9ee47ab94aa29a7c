import * as assert from 'node:assert/strict';
import { acrRefreshToken } from '../../../shared/azure/acr';
import type { AzureConnection } from '../../../shared/azure/connection';
import { UserError } from '../../../shared/errors';

const CONNECTION: AzureConnection = {
  id: 'edge-azure',
  scheme: 'WorkloadIdentityFederation',
  tenantId: 'tenant-1',
  clientId: 'app-1',
  authority: 'https://login.microsoftonline.com/',
  resource: 'https://management.azure.com/',
};

/** A registry that answers its challenge with `realm`, then the exchange; every request is recorded. */
function registry(realm: string, exchange: Response[] = []) {
  const seen: string[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push(`${init?.method ?? 'GET'} ${url.origin}${url.pathname}`);
    if (url.pathname === '/v2/') return new Response('{}', { status: 401, headers: { 'WWW-Authenticate': `Bearer realm="${realm}",service="edgeacr.azurecr.io"` } });
    return exchange.shift() ?? new Response('{"refresh_token":"rt"}', { status: 200 });
  }) as typeof fetch;
  return { seen, fetchImpl };
}

describe('ACR token exchange: where the Entra token may go', () => {
  it('exchanges at the realm of the registry\'s own host, over HTTPS', async () => {
    const { seen, fetchImpl } = registry('https://edgeacr.azurecr.io/oauth2/token');
    assert.equal(await acrRefreshToken(CONNECTION, 'edgeacr.azurecr.io', 'entra-token', fetchImpl), 'rt');
    assert.deepEqual(seen, ['GET https://edgeacr.azurecr.io/v2/', 'POST https://edgeacr.azurecr.io/oauth2/exchange']);
  });

  for (const [what, realm] of [
    ['another host', 'https://tokens.example.com/oauth2/token'],
    ['plain HTTP', 'http://edgeacr.azurecr.io/oauth2/token'],
  ]) {
    it(`never sends the Entra token to a realm on ${what}`, async () => {
      const { seen, fetchImpl } = registry(realm);
      await assert.rejects(
        acrRefreshToken(CONNECTION, 'edgeacr.azurecr.io', 'entra-token', fetchImpl),
        (error: Error) => error instanceof UserError && error.message === `The registry edgeacr.azurecr.io names '${realm}' as its token service: an Entra token is sent only to the registry's own host over HTTPS.`,
      );
      assert.deepEqual(seen, ['GET https://edgeacr.azurecr.io/v2/']);
    });
  }

  it('asks again when the registry is throttling or failing, as its Retry-After says', async () => {
    const { seen, fetchImpl } = registry('https://edgeacr.azurecr.io/oauth2/token', [
      new Response('', { status: 429, headers: { 'Retry-After': '0' } }),
      new Response('', { status: 503, headers: { 'Retry-After': '0' } }),
    ]);
    assert.equal(await acrRefreshToken(CONNECTION, 'edgeacr.azurecr.io', 'entra-token', fetchImpl), 'rt');
    assert.equal(seen.filter((s) => s.endsWith('/oauth2/exchange')).length, 3);
  });
});
