import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { TaskRun } from './run-task';

/**
 * A scan for secrets (job tokens, registry passwords) in everything a test run leaves behind: task
 * stdout/stderr, child argv, files written (summaries, scratch files, working copies) and `.git/config`.
 * It looks for each secret and the forms it takes on the way to a server: base64 of `user:secret` (Basic
 * auth, docker auth files) and of `:secret` / `secret`, and URL-encoding (a secret in a URL).
 *
 *   const scan = new SecretScan([{ value: TOKEN }, { value: password, usernames: [user] }]);
 *   scan.taskRun('TagComponents', run);
 *   await scan.tree('working copy', app.work);
 *   scan.assertClean();
 */

export interface Secret {
  value: string;
  /** Usernames the secret is paired with in Basic auth (`user:secret`), besides the empty one. */
  usernames?: string[];
}

export interface Finding {
  /** Which output or file. */
  where: string;
  /** Which form of which secret (e.g. `base64(user:password #2)`). */
  form: string;
  /** The text around it, with the secret itself cut out. */
  context: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** The agent's own masking command: the one line meant to carry a secret (the agent consumes it). */
const SET_SECRET = /^##vso\[task\.setsecret\]/;

/** Every form of a secret to look for, each with a description that does not contain the secret. */
export function secretForms(secret: Secret, label: string): Array<{ form: string; text: string }> {
  const forms = new Map<string, string>();
  const add = (form: string, text: string) => {
    // Too short to be meaningful (base64 of a 1-character value would match everywhere).
    if (text.length >= 6 && !forms.has(text)) forms.set(text, form);
  };
  add(label, secret.value);
  add(`urlencoded(${label})`, encodeURIComponent(secret.value));
  add(`base64(${label})`, b64(secret.value));
  add(`base64(:${label})`, b64(`:${secret.value}`));
  for (const user of secret.usernames ?? []) {
    add(`base64(${user}:${label})`, b64(`${user}:${secret.value}`));
    add(`base64url(${user}:${label})`, b64url(`${user}:${secret.value}`));
    add(`urlencoded(${user}:${label})`, `${encodeURIComponent(user)}:${encodeURIComponent(secret.value)}`);
  }
  // A base64 form inside a longer base64 text (a JSON auth file encoded again) loses its padding.
  for (const [text, form] of [...forms]) if (text.endsWith('=')) add(`${form} unpadded`, text.replace(/=+$/, ''));
  return [...forms].map(([text, form]) => ({ form, text }));
}

export class SecretScan {
  readonly findings: Finding[] = [];
  /** What was looked at: a scan that looked at nothing proves nothing. */
  readonly scanned = { texts: 0, files: 0, bytes: 0 };
  private readonly forms: Array<{ form: string; text: string }>;

  constructor(secrets: Secret[]) {
    if (!secrets.length) throw new Error('SecretScan: no secret to look for');
    this.forms = secrets.flatMap((secret, i) => secretForms(secret, `secret #${i + 1}`));
  }

  /** Scans one text (an output, an argv, a file's content). */
  text(where: string, text: string): void {
    this.scanned.texts++;
    this.scanned.bytes += text.length;
    for (const { form, text: needle } of this.forms) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
        const context = `${text.slice(Math.max(0, at - 40), at)}<${form}>${text.slice(at + needle.length, at + needle.length + 40)}`;
        this.findings.push({ where, form, context: context.replace(/\n/g, '\\n') });
      }
    }
  }

  /** A task's stdout: every line but the agent's `##vso[task.setsecret]` masking commands. */
  stdout(where: string, stdout: string): void {
    this.text(where, stdout.split('\n').filter((line) => !SET_SECRET.test(line)).join('\n'));
  }

  /** argv of traced child processes, one text per process. */
  argv(where: string, argvs: string[][]): void {
    argvs.forEach((argv, i) => this.text(`${where} #${i + 1}: ${argv.slice(0, 2).join(' ')}`, argv.join('\u0000')));
  }

  /** Everything a TaskRun captured: stdout, stderr, child argv, summaries, issues, outputs and the result message. */
  taskRun(label: string, run: TaskRun): void {
    this.stdout(`${label} stdout`, run.stdout);
    this.text(`${label} stderr`, run.stderr);
    this.argv(`${label} child argv`, run.childArgv);
    run.summaries.forEach((summary, i) => this.text(`${label} summary #${i + 1}`, summary));
    this.text(`${label} issues`, [...run.errors, ...run.warnings, run.message].join('\n'));
    this.text(`${label} outputs`, JSON.stringify(run.outputs));
  }

  /** One file (binary-safe: scanned as latin1 so any byte sequence matches itself). */
  async file(file: string, where = file): Promise<void> {
    const content = await fs.readFile(file);
    this.scanned.files++;
    this.text(where, content.toString('latin1'));
  }

  /**
   * Every regular file under `dir` (symlinks not followed). Inside `.git`, compressed objects are
   * skipped (they cannot hold a readable secret); `.git/config` and every other git file are scanned.
   */
  async tree(label: string, dir: string): Promise<void> {
    const visit = async (current: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(current, { withFileTypes: true });
      } catch {
        return; // removed meanwhile (a scratch dir the task cleaned up)
      }
      for (const entry of entries) {
        const full = path.join(current, entry.name);
        const rel = path.relative(dir, full);
        if (entry.isDirectory()) {
          if (entry.name === 'objects' && path.basename(current) === '.git') continue;
          await visit(full);
        } else if (entry.isFile()) await this.file(full, `${label}: ${rel}`);
      }
    };
    await visit(dir);
  }

  /** `.git/config` of a working copy (or `config` of a bare repository). */
  async gitConfig(label: string, repo: string): Promise<void> {
    const candidates = [path.join(repo, '.git', 'config'), path.join(repo, 'config')];
    for (const file of candidates) {
      try {
        await this.file(file, `${label}: ${path.relative(repo, file)}`);
        return;
      } catch {
        continue;
      }
    }
    throw new Error(`no git config in ${repo}`);
  }

  /** Throws, listing where each secret form was found, unless nothing was found. */
  assertClean(): void {
    if (this.scanned.texts === 0) throw new Error('SecretScan: nothing was scanned');
    if (this.findings.length === 0) return;
    const lines = this.findings.slice(0, 20).map((f) => `- ${f.where}: ${f.form} in ...${f.context}...`);
    throw new Error(`${this.findings.length} secret occurrence(s):\n${lines.join('\n')}`);
  }
}
