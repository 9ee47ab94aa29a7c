import type { Document } from 'yaml';
import { formatImageRef, type ImageRef, parseImageRef, sameRepository } from '../images/reference';
import { applyEdits, type Edit, parseDocuments } from './yaml-text';

/** One component moving to a new image, as every updater receives it. */
export interface ImageChange {
  component: string;
  /** The image the lock records now (absent for a component new to the environment). */
  from?: { name: string; tag?: string; digest?: string };
  /** The image it moves to: repository, tag, and digest when pinned. */
  to: { name: string; tag: string; digest?: string };
}

/** An image reference an updater saw in a file (after its edits), for policy checks. */
export interface SeenImage {
  image: string;
  /** Offset of the value in the file's text (the line is computed only when a message needs it). */
  offset: number;
}

/** What an updater found in one file: its edits, the components they touch, every image it saw. */
export interface FileEdits {
  edits: Edit[];
  touched: Set<string>;
  images: SeenImage[];
  /** kustomize `images:` names that an entry renames (newName): placeholders, not images that run. */
  renamed?: string[];
  /** Things the user should know that are not errors (e.g. a :digest marker with no digest to write). */
  notes?: Array<{ message: string; offset: number }>;
}

export interface ParsedFile {
  file: string;
  text: string;
  documents: Document.Parsed[];
}

const lastPart = (repository: string) => repository.slice(repository.lastIndexOf('/') + 1);
const indexes = new WeakMap<readonly ImageChange[], Map<string, ImageChange[]>>();

/** The change (if any) for a repository as written in a file, matched with or without registry host. */
export function changeFor(changes: readonly ImageChange[], repository: string): ImageChange | undefined {
  // Candidates by the repository's last path part, so a file with many images costs little per image.
  let index = indexes.get(changes);
  if (!index) {
    index = new Map();
    for (const change of changes) {
      for (const name of new Set([change.to.name, ...(change.from ? [change.from.name] : [])].map(lastPart))) {
        index.set(name, [...(index.get(name) ?? []), change]);
      }
    }
    indexes.set(changes, index);
  }
  const candidates = index.get(lastPart(repository));
  return candidates?.find((c) => sameRepository(repository, c.to.name) || (c.from !== undefined && sameRepository(repository, c.from.name)));
}

/**
 * The repository to write where `written` stood: kept as written (with or without host) unless the
 * component moves to another repository.
 */
export function repositoryFor(change: ImageChange, written: string): string {
  return sameRepository(written, change.to.name) ? written : change.to.name;
}

/** The full reference `written` becomes under `change`. */
export function newReference(change: ImageChange, written: ImageRef): string {
  return formatImageRef({ name: repositoryFor(change, written.name), tag: change.to.tag, digest: change.to.digest });
}

export { parseImageRef };

/** Runs one updater over text alone: parse, find edits, apply. The text-in, text-out form of every updater. */
export function updateText(
  find: (parsed: ParsedFile, changes: readonly ImageChange[]) => FileEdits,
  text: string,
  changes: readonly ImageChange[],
  file = 'file.yaml',
): { text: string; touched: string[] } {
  const result = find({ file, text, documents: parseDocuments(text, file, 'failsafe') }, changes);
  return { text: applyEdits(text, result.edits), touched: [...result.touched].sort() };
}
