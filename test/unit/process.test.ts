import { strict as assert } from 'node:assert';
import { run, type OutputStream } from '../../shared/process';

/** A child node's script writing `chunks`, each to its stream, 50 ms apart. */
const writer = (chunks: Array<[OutputStream, string]>) =>
  `const chunks = ${JSON.stringify(chunks)};
   let i = 0;
   const next = () => { if (i === chunks.length) return; const [stream, text] = chunks[i++]; process[stream].write(Buffer.from(text, 'utf8')); setTimeout(next, 50); };
   next();`;

describe('run: output as it comes (onLine)', () => {
  it('hands over each line when it is complete, per stream, while the child runs; the last unterminated line at exit', async () => {
    const seen: Array<{ stream: OutputStream; line: string; at: number }> = [];
    const start = Date.now();
    const result = await run(process.execPath, ['-e', writer([['stdout', 'one\ntw'], ['stdout', 'o\n'], ['stderr', 'warn\n'], ['stdout', 'three']])], {
      onLine: (stream, line) => seen.push({ stream, line, at: Date.now() - start }),
    });
    assert.deepEqual(seen.map(({ stream, line }) => [stream, line]), [['stdout', 'one'], ['stdout', 'two'], ['stderr', 'warn'], ['stdout', 'three']]);
    assert.ok(seen[2].at - seen[0].at >= 80, 'lines arrive as written, not all at exit');
    assert.deepEqual(result, { code: 0, stdout: '', stderr: '' }, 'nothing is collected');
  });

  it('keeps a character split across chunks whole, drops CRLF endings, and keeps the last version of a line a carriage return rewrote', async () => {
    const euro = Buffer.from('€', 'utf8');
    const script = `process.stdout.write(Buffer.from([${[...euro.subarray(0, 1)]}])); setTimeout(() => process.stdout.write(Buffer.concat([Buffer.from([${[...euro.subarray(1)]}]), Buffer.from(' price\\r\\n10%\\r50%\\r100%\\n')])), 50);`;
    const lines: string[] = [];
    await run(process.execPath, ['-e', script], { onLine: (_, line) => lines.push(line) });
    assert.deepEqual(lines, ['€ price', '100%']);
  });

  it('still rejects a failure unless allowed, and collects output without onLine', async () => {
    await assert.rejects(run(process.execPath, ['-e', 'process.exit(3)'], { onLine: () => undefined }), /failed \(exit 3\)/);
    const result = await run(process.execPath, ['-e', 'console.log("out"); console.error("err"); process.exit(2)'], { allowFailure: true });
    assert.deepEqual(result, { code: 2, stdout: 'out\n', stderr: 'err\n' });
  });
});
