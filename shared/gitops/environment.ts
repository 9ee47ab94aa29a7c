import * as path from 'node:path';
import type { Document } from 'yaml';
import { RenderUnsupported } from '../kustomize/kustomization-file';
import { diskFiles, kustomizationLinks, type KustomizeFiles, type Render, renderKustomization } from '../kustomize/render';
import type { ParsedFile } from '../updaters/change';
import { isKustomizationFile } from '../updaters/kustomization';
import { parseDocuments } from '../updaters/yaml-text';

/** One YAML file under the environment's manifests path, read and parsed (`file`: relative to the repository, with '/'). */
export interface EnvironmentFile extends ParsedFile {
  /** Real path, read and replaced. */
  real: string;
}

/** A render of one of the environment's root kustomizations, or why it could not be rendered here. */
export type RootRender = { dir: string; render: Render } | { dir: string; unsupported: RenderUnsupported };

/**
 * The environment's files and the kustomizations among them: which are roots (not included by another
 * kustomization of the environment, not Components), which Components no root uses (their placeholders are
 * left alone), and the renders of the roots over the files as they are or as edited in memory.
 */
export class Environment {
  readonly byReal = new Map<string, EnvironmentFile>();
  readonly byRelative = new Map<string, EnvironmentFile>();
  readonly roots: string[] = [];
  /** Component kustomization files (real paths) that no root of the environment uses. */
  readonly unusedComponents = new Set<string>();

  constructor(
    readonly root: string,
    readonly files: EnvironmentFile[],
    /** Reads a file outside the environment (a base) as the task reads YAML; undefined when there is none. */
    private readonly readOutside: (real: string, relative: string) => string | undefined,
  ) {
    for (const file of files) {
      this.byReal.set(file.real, file);
      this.byRelative.set(file.file, file);
    }
    const kustomizations = files.filter((f) => isKustomizationFile(f.file));
    const links = new Map(kustomizations.map((f) => [path.dirname(f.real), kustomizationLinks(f.real, f.file, f.text, f.documents)]));
    const referenced = new Set([...links.values()].flatMap((l) => l.folders));
    for (const [dir, link] of links) if (!link.isComponent && !referenced.has(dir)) this.roots.push(dir);
    const used = new Set<string>();
    const visit = (dir: string) => {
      if (used.has(dir)) return;
      used.add(dir);
      for (const next of links.get(dir)?.folders ?? []) visit(next);
    };
    this.roots.forEach(visit);
    for (const file of kustomizations) if (links.get(path.dirname(file.real))!.isComponent && !used.has(path.dirname(file.real))) this.unusedComponents.add(file.real);
  }

  /** Whether a file (relative to the repository) is one of the environment's files. */
  holds(relative: string): boolean {
    return this.byRelative.has(relative);
  }

  /** Files for the kustomize resolver: the environment's texts (or `edited` ones), parses reused; other files read as the task reads YAML. */
  private kustomizeFiles(edited: ReadonlyMap<string, string>): KustomizeFiles {
    const parsed = new Map<string, { text: string; documents: Document.Parsed[] }>();
    return {
      read: (file) => edited.get(file) ?? this.byReal.get(file)?.text ?? (diskFiles.kind(file) === 'file' ? this.readOutside(file, path.relative(this.root, file).split(path.sep).join('/')) : undefined),
      kind: (file) => (this.byReal.has(file) || edited.has(file) ? 'file' : diskFiles.kind(file)),
      real: diskFiles.real,
      documents: (file, text, shown) => {
        const own = this.byReal.get(file);
        if (own && own.text === text) return own.documents;
        const cached = parsed.get(file);
        if (cached?.text === text) return cached.documents;
        const documents = parseDocuments(text, shown, 'failsafe');
        parsed.set(file, { text, documents });
        return documents;
      },
    };
  }

  /** Renders every root over the files as they are, or with `edited` texts (real path -> text; new files too). */
  render(edited: ReadonlyMap<string, string> = new Map()): RootRender[] {
    const files = this.kustomizeFiles(edited);
    return this.roots.map((dir) => {
      try {
        return { dir, render: this.renderRoot(dir, files) };
      } catch (error) {
        if (error instanceof RenderUnsupported) return { dir, unsupported: error };
        throw error;
      }
    });
  }

  /** Renders one root over the files as they are (or `files`); a UserError (RenderUnsupported among them) when it does not render here. */
  renderRoot(dir: string, files: KustomizeFiles = this.kustomizeFiles(new Map())): Render {
    return renderKustomization(dir, { root: this.root, files });
  }
}
