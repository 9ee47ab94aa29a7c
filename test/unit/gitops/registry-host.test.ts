import { strict as assert } from 'node:assert';
import { authKey } from '../../../shared/builders/auth';
import { parseRegistry } from '../../../shared/flows/build-containers';
import { repositoryLocation, sameRepository } from '../../../shared/images/reference';
import { azureRegistryAmong, registryApiHost, registryHost, splitRegistryAddress } from '../../../shared/images/registry-host';
import { isLoopback, RegistryClient } from '../../../shared/registry/client';

describe('registry hosts', () => {
  it('spells a host one way: lowercase, port kept, without scheme, path or trailing slash', () => {
    assert.equal(registryHost('https://MyACR.azurecr.io/'), 'myacr.azurecr.io');
    assert.equal(registryHost('myacr.azurecr.io'), 'myacr.azurecr.io');
    assert.equal(registryHost('  HTTP://Registry.Example.com:5000/edge/team/ '), 'registry.example.com:5000');
    assert.equal(registryHost('LOCALHOST:5000'), 'localhost:5000');
    assert.equal(registryHost('[::1]:5000/'), '[::1]:5000');
    assert.equal(registryHost(''), '');
  });

  for (const hub of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'Docker.IO/']) {
    it(`reads '${hub}' as Docker Hub: docker.io, its API at registry-1.docker.io`, () => {
      assert.equal(registryHost(hub), 'docker.io');
      assert.equal(registryApiHost(hub), 'registry-1.docker.io');
    });
  }

  it('keeps the path after the host, except Docker Hub\'s legacy /v1/', () => {
    assert.deepEqual(splitRegistryAddress('https://ghcr.io/edge-team/'), { host: 'ghcr.io', path: 'edge-team' });
    assert.deepEqual(splitRegistryAddress('ghcr.io/v1'), { host: 'ghcr.io', path: 'v1' });
    assert.deepEqual(splitRegistryAddress('https://index.docker.io/v1/'), { host: 'docker.io', path: '' });
    assert.equal(registryApiHost('myacr.azurecr.io'), 'myacr.azurecr.io');
  });

  it('locates repositories: Docker Hub for a name without host, official images under library/', () => {
    assert.deepEqual(repositoryLocation('busybox'), { registry: 'docker.io', path: 'library/busybox' });
    assert.deepEqual(repositoryLocation('edge/busybox'), { registry: 'docker.io', path: 'edge/busybox' });
    assert.deepEqual(repositoryLocation('index.docker.io/nginx'), { registry: 'docker.io', path: 'library/nginx' });
    assert.deepEqual(repositoryLocation('registry-1.docker.io/library/nginx'), { registry: 'docker.io', path: 'library/nginx' });
    assert.deepEqual(repositoryLocation('MyACR.azurecr.io/edge/heuristic'), { registry: 'myacr.azurecr.io', path: 'edge/heuristic' });
    assert.deepEqual(repositoryLocation('127.0.0.1:5000/heuristic'), { registry: '127.0.0.1:5000', path: 'heuristic' });
  });

  it('compares repositories across spellings of one registry host', () => {
    assert.ok(sameRepository('MyACR.azurecr.io/heuristic', 'myacr.azurecr.io/heuristic'));
    assert.ok(sameRepository('registry-1.docker.io/library/nginx', 'nginx'));
    assert.ok(sameRepository('index.docker.io/nginx', 'docker.io/library/nginx'));
    assert.ok(!sameRepository('myacr.azurecr.io/heuristic', 'myacr.azurecr.io:5000/heuristic'));
  });

  // Every place that names a registry reads each spelling as the same host.
  for (const spelling of ['myacr.azurecr.io', 'https://MyACR.azurecr.io/', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io', 'localhost:5000', 'HTTP://127.0.0.1:5000/']) {
    it(`'${spelling}' is one host for the build, the updater, the registry client and the builders' logins`, () => {
      const host = registryHost(spelling);
      assert.equal(parseRegistry(spelling).host, host);
      assert.equal(repositoryLocation(`${host}/edge/heuristic`).registry, host);
      const client = new RegistryClient(spelling);
      assert.equal(client.baseUrl, `${isLoopback(host) ? 'http' : 'https'}://${registryApiHost(host)}`);
      assert.equal(authKey(spelling, 'docker'), host === 'docker.io' ? 'https://index.docker.io/v1/' : host);
      assert.equal(authKey(spelling, 'containers'), host);
    });
  }

  it('reaches loopback registries over HTTP whatever their spelling, any other over HTTPS', () => {
    assert.equal(new RegistryClient('LOCALHOST:5000').baseUrl, 'http://localhost:5000');
    assert.equal(new RegistryClient('http://127.0.0.1:5000/').baseUrl, 'http://127.0.0.1:5000');
    assert.equal(new RegistryClient('[::1]:5000').baseUrl, 'http://[::1]:5000');
    assert.equal(new RegistryClient('docker.io').baseUrl, 'https://registry-1.docker.io');
    assert.equal(new RegistryClient('MyACR.azurecr.io').baseUrl, 'https://myacr.azurecr.io');
  });

  it('picks the registry an Azure connection without a registry input signs in to: the one host, else the one ACR', () => {
    assert.equal(azureRegistryAmong(['127.0.0.1:5000', '127.0.0.1:5000']), '127.0.0.1:5000');
    assert.equal(azureRegistryAmong(['docker.io', 'edge.azurecr.io', 'ghcr.io', 'edge.azurecr.io']), 'edge.azurecr.io');
    assert.equal(azureRegistryAmong(['docker.io', 'edge.azurecr.us:443']), 'edge.azurecr.us:443');
    assert.equal(azureRegistryAmong(['docker.io', 'ghcr.io']), undefined, 'no ACR among several');
    assert.equal(azureRegistryAmong(['edge.azurecr.io', 'fleet.azurecr.cn']), undefined, 'two ACRs: which one is the connection for');
    assert.equal(azureRegistryAmong(['edge.azurecr.io.example.com', 'docker.io']), undefined, 'a suffix, not a substring');
    assert.equal(azureRegistryAmong([]), undefined);
  });
});
