import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../../shared/agent';
import { buildRustContainers } from '../../../shared/flows/build-containers';
import { imageMetadata, parseManifest } from '../../../shared/cargo/manifest';
import { UserError } from '../../../shared/errors';
import { byComponent, checkImageAgrees, isImageNamed, keysByImage, parseImageNames } from '../../../shared/images/component-images';
import { additionalImageTags } from '../../../shared/images/names';
import { EDGE_AI, edgeAiService } from '../../helpers/edge-ai';

// Item 1 of issue 13: a component says its image name, Dockerfile and context where it is defined, and
// an input maps components to repositories for those who cannot touch Cargo.toml.
describe('component image settings', () => {
  const file = path.resolve('/repo/src/app/services/broker/Cargo.toml');
  const manifest = (metadata: string) => parseManifest(file, `[package]\nname = "http-connector"\nversion = "0.1.0"\n\n${metadata}`);

  it('reads [package.metadata.rust-gitops-release], paths relative to the package folder', () => {
    const settings = imageMetadata(
      manifest('[package.metadata.rust-gitops-release]\nimage = "broker"\ndockerfile = "Dockerfile"\ncontext = "../.."\nplatforms = ["linux/amd64", "linux/arm64"]\nbuildArgs = { USE_REPLACE_WITH = false, PORT = 8080 }\n'),
    );
    assert.deepEqual(settings, {
      image: 'broker',
      dockerfile: path.resolve('/repo/src/app/services/broker/Dockerfile'),
      context: path.resolve('/repo/src/app'),
      platforms: ['linux/amd64', 'linux/arm64'],
      buildArgs: { USE_REPLACE_WITH: 'false', PORT: '8080' },
      where: { file, line: 5 },
    });
    assert.equal(imageMetadata(manifest('[package.metadata.docs.rs]\nall-features = true\n')), undefined, 'other tools’ metadata is not ours');
    assert.equal(imageMetadata(manifest('')), undefined);
  });

  const refusals: Array<[string, string, RegExp, number]> = [
    ['a misspelt key', '[package.metadata.rust-gitops-release]\ndockerFile = "Dockerfile"\n', /has no key "dockerFile": use image, dockerfile, context, platforms, buildArgs/, 6],
    ['an image that is not a repository', '[package.metadata.rust-gitops-release]\nimage = "Broker"\n', /\.image: 'Broker' is not a valid image repository/, 6],
    ['an absolute context', '[package.metadata.rust-gitops-release]\ncontext = "/etc"\n', /context "\/etc" must be relative to the package's folder/, 6],
    ['platforms that are not strings', '[package.metadata.rust-gitops-release]\nplatforms = [1]\n', /platforms must be an array of strings/, 6],
    ['a build argument name with a space', '[package.metadata.rust-gitops-release.buildArgs]\n"A B" = "x"\n', /buildArgs key "A B" is not a build argument name/, 6],
    ['a table that is not a table', '[package.metadata]\nrust-gitops-release = "broker"\n', /must be a table of image, dockerfile/, 6],
  ];
  for (const [what, text, message, line] of refusals) {
    it(`refuses ${what}, naming the Cargo.toml and the line`, () => {
      assert.throws(() => imageMetadata(manifest(text)), (e: unknown) => e instanceof UserError && message.test(e.message) && e.where?.file === file && e.where.line === line);
    });
  }

  describe('in BuildRustContainers, on the edge-ai app', () => {
    const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined };
    let app = '';
    beforeEach(async () => {
      app = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-metadata-'));
      await fs.cp(path.join(EDGE_AI, 'app'), app, { recursive: true });
    });
    afterEach(() => fs.rm(app, { recursive: true, force: true }));
    const withMetadata = async (table: string) => {
      const manifest = path.join(app, edgeAiService('broker').path, 'Cargo.toml');
      await fs.appendFile(manifest, `\n[package.metadata.rust-gitops-release]\n${table}`);
      return path.relative(app, manifest);
    };
    const planned = (imageNames: string[] = []) => buildRustContainers({ componentsPath: app, registry: 'edgeacr.azurecr.io', mode: 'plan', push: false, imageNames }, quiet);

    const refused: Array<[string, string, RegExp]> = [
      ['a context outside componentsPath', 'context = "../../../../../.."\n', /context of http-connector leads to .*, outside componentsPath/],
      ['a Dockerfile that is not there', 'dockerfile = "Dockerfile.acr"\n', /The dockerfile its Cargo\.toml names for 'http-connector', .*Dockerfile\.acr, is not a file/],
      ['a context that is not a folder', 'context = "Cargo.toml"\n', /The build context of 'http-connector', .*is not a folder: check the context its Cargo\.toml names/],
    ];
    for (const [what, table, message] of refused) {
      it(`refuses ${what}, naming the Cargo.toml`, async () => {
        const manifest = await withMetadata(table);
        await assert.rejects(planned(), (e: unknown) => e instanceof UserError && message.test(e.message) && (e.where?.file ?? '').endsWith(manifest));
      });
    }

    it('refuses an imageNames line for a component that does not exist, listing the package names', async () => {
      await assert.rejects(planned(['broker=broker']), /imageNames names 'broker', which no Cargo package under componentsPath is called: use package names \(ai-edge-inference-crate, ai-edge-mqtt-publisher, http-connector/);
    });

    it('applies repositoryPrefix and the registry namespace to names from imageNames and Cargo.toml alike', async () => {
      await withMetadata('image = "edge-broker"\n');
      const result = await buildRustContainers({ componentsPath: app, registry: 'ghcr.io/edge-team', repositoryPrefix: 'rust/', mode: 'plan', push: false, imageNames: ['sender=telemetry-sender'] }, quiet);
      const images = Object.fromEntries(Object.values(result.matrix).map((leg) => [leg.component, leg.image]));
      assert.equal(images['http-connector'], 'ghcr.io/edge-team/rust/edge-broker');
      assert.equal(images.sender, 'ghcr.io/edge-team/rust/telemetry-sender');
      assert.equal(images.receiver, 'ghcr.io/edge-team/rust/receiver');
    });
  });

  it('reads imageNames lines and refuses what is not component=repository', () => {
    assert.deepEqual([...parseImageNames(['http-connector=broker', ' ai-edge-mqtt-publisher = edge/ai-edge-inference '])], [
      ['http-connector', 'broker'],
      ['ai-edge-mqtt-publisher', 'edge/ai-edge-inference'],
    ]);
    assert.throws(() => parseImageNames(['broker']), /imageNames line 'broker' is not component=repository/);
    assert.throws(() => parseImageNames(['http-connector=Broker']), /'Broker' is not a valid image repository/);
    assert.throws(() => parseImageNames(['1st=broker']), /is not a Cargo package name/);
    assert.throws(() => parseImageNames(['a=b', 'a=c']), /names two images for 'a': b and c/);
  });

  it('knows an image by its repository name under any registry, namespace or prefix', () => {
    assert.ok(isImageNamed('edgeacr.azurecr.io/broker', 'broker'));
    assert.ok(isImageNamed('edgeacr.azurecr.io/edge/broker:0.1.0@sha256:' + 'a'.repeat(64), 'broker'));
    assert.ok(isImageNamed('broker', 'broker'));
    assert.ok(!isImageNamed('edgeacr.azurecr.io/http-connector', 'broker'));
    assert.ok(!isImageNamed('edgeacr.azurecr.io/mybroker', 'broker'));
  });

  it('takes a lock entry kept under the image’s name as the component’s, unless the component has its own', () => {
    const names = parseImageNames(['http-connector=broker', 'ai-edge-mqtt-publisher=ai-edge-inference']);
    const lock = new Map([
      ['broker', { image: 'edgeacr.azurecr.io/broker', tag: '0.1.0' }],
      ['ai-edge-mqtt-publisher', { image: 'edgeacr.azurecr.io/ai-edge-inference', tag: '0.2.0' }],
      ['ai-edge-inference', { image: 'edgeacr.azurecr.io/ai-edge-inference', tag: '0.1.0' }],
      ['sender', { image: 'edgeacr.azurecr.io/sender', tag: '0.1.0' }],
    ]);
    const { entries, keys } = byComponent(lock, names, 'versions.yaml');
    assert.deepEqual([...entries.keys()], ['http-connector', 'ai-edge-mqtt-publisher', 'ai-edge-inference', 'sender']);
    assert.deepEqual([...keys], [['http-connector', 'broker']]);
    const twice = new Map([...lock, ['broker-old', { image: 'edgeacr.azurecr.io/broker', tag: '0.0.9' }]]);
    assert.throws(() => keysByImage(new Map([...twice].map(([k, v]) => [k, v.image])), names, 'versions.yaml'), /versions\.yaml has broker and broker-old for the image broker of http-connector/);
  });

  it('refuses an image for a component other than the repository imageNames gives it', () => {
    const names = parseImageNames(['http-connector=broker']);
    checkImageAgrees('http-connector', 'r.io/broker', names, 'images.json');
    checkImageAgrees('sender', 'r.io/anything', names, 'images.json');
    assert.throws(() => checkImageAgrees('http-connector', 'r.io/http-connector', names, 'images.json (http-connector)'), {
      message: /images\.json \(http-connector\) gives http-connector the image r\.io\/http-connector, but imageNames says its image is broker: build with the same imageNames/,
    });
  });
});

// Item 5: several tags per image, the additional ones from the component's version.
describe('additionalTags placeholders', () => {
  it('fills {version}, {major}, {minor}, {patch} per component and validates each tag', () => {
    assert.deepEqual(additionalImageTags(['{version}', '{major}.{minor}', 'v{major}', 'latest'], '1.4.2'), ['1.4.2', '1.4', 'v1', 'latest']);
    assert.deepEqual(additionalImageTags(['{version}', '{patch}'], '2.0.0-beta.1'), ['2.0.0-beta.1', '0']);
    assert.throws(() => additionalImageTags(['{name}'], '1.0.0'), /additionalTags '\{name\}' uses \{name\}, which is not known: use \{version\}, \{major\}, \{minor\}, \{patch\}/);
    assert.throws(() => additionalImageTags(['{version}+x'], '1.0.0'), /additionalTags entry '\{version\}\+x' filled in as '1\.0\.0\+x' contains '\+'/);
  });
});
