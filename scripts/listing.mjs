// The Marketplace listing as packaging checks it: the overview page's URL and its section anchors (what
// each task's "Learn more" link points at), and the manifest's links, repository, branding and licence.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const LINKS = ['getstarted', 'support', 'license', 'repository'];

/** The extension's Marketplace page, where overview.md is shown. */
export function listingUrl(manifest) {
  return `https://marketplace.visualstudio.com/items?itemName=${manifest.publisher}.${manifest.id}`;
}

/** A heading's anchor as Markdown renderers make it: lower case, spaces to '-', punctuation dropped. */
export function anchor(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchor -> heading text of every heading of a Markdown text, code blocks skipped. */
export function headingAnchors(markdown) {
  const anchors = new Map();
  let fenced = false;
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading && !anchors.has(anchor(heading[1]))) anchors.set(anchor(heading[1]), heading[1]);
  }
  return anchors;
}

/**
 * { url, anchors } of the listing in `root` (vss-extension.json and the overview it names), or
 * { problem } saying what is missing.
 */
export function readListing(root) {
  const file = path.join(root, 'vss-extension.json');
  if (!existsSync(file)) return { problem: 'vss-extension.json: missing (the tasks link to the listing it describes)' };
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { problem: `vss-extension.json: invalid JSON: ${error.message}` };
  }
  const overview = manifest.content?.details?.path ?? 'overview.md';
  if (!existsSync(path.join(root, overview))) return { problem: `${overview}: missing (the tasks' Learn more links point at its sections)` };
  return { url: listingUrl(manifest), anchors: headingAnchors(readFileSync(path.join(root, overview), 'utf8')), overview };
}

/**
 * What a platform team looks for on the listing: links (getstarted, support, license, repository),
 * a git repository, branding, and the licence file. Returns { problems, warnings }; a link to a
 * reserved `.invalid` host is a warning: a placeholder to replace before publishing.
 */
export function checkListing(manifest, root) {
  const problems = [];
  const warnings = [];
  const checkUrl = (where, value) => {
    let url;
    try {
      url = new URL(value);
    } catch {
      problems.push(`vss-extension.json: ${where} ${JSON.stringify(value)} is not a URL`);
      return;
    }
    if (url.protocol !== 'https:') problems.push(`vss-extension.json: ${where} ${value} is not https`);
    else if (url.hostname.endsWith('.invalid')) warnings.push(`vss-extension.json: ${where} ${value} is a placeholder: set the real address before publishing`);
  };
  for (const link of LINKS) {
    const uri = manifest.links?.[link]?.uri;
    if (typeof uri !== 'string') problems.push(`vss-extension.json: links.${link}.uri is missing`);
    else checkUrl(`links.${link}.uri`, uri);
  }
  if (manifest.repository?.type !== 'git' || typeof manifest.repository?.uri !== 'string') problems.push('vss-extension.json: repository needs type "git" and a uri');
  else checkUrl('repository.uri', manifest.repository.uri);
  if (!/^#[0-9a-f]{6}$/i.test(manifest.branding?.color ?? '') || !['dark', 'light'].includes(manifest.branding?.theme)) {
    problems.push('vss-extension.json: branding needs a color (#rrggbb) and a theme (dark or light)');
  }
  const license = manifest.content?.license?.path;
  if (typeof license !== 'string') problems.push('vss-extension.json: content.license.path is missing (the licence the Marketplace shows)');
  else if (!existsSync(path.join(root, license))) problems.push(`vss-extension.json: content.license.path names ${license}, which does not exist`);
  return { problems, warnings };
}
