import type * as http from 'node:http';
import type { AdoIdentity, Project } from './store';

/** One REST request, as the API areas see it: the caller known, the project resolved, the body parsed. */
export interface ApiRequest {
  method: string;
  /** The project of `<project>/_apis/...`; undefined for collection-level `_apis/...`. */
  project?: Project;
  /** The path below `_apis/`, decoded. */
  path: string[];
  query: URLSearchParams;
  body: unknown;
  /** Media type of the body, lower case, without parameters. */
  contentType: string;
  caller: AdoIdentity;
}

export interface Answer {
  status: number;
  body?: unknown;
}

/** An API area answers the requests it serves and returns undefined for the others. */
export type Area = (request: ApiRequest) => Promise<Answer | undefined> | Answer | undefined;

/** An error answer as the service shapes it (message, typeKey); `typeKey` names the service's exception. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly typeKey = 'InvalidArgumentValueException') {
    super(message);
  }

  get body(): unknown {
    const { message, typeKey } = this;
    return { $id: '1', innerException: null, message, typeName: `Microsoft.TeamFoundation.${typeKey}`, typeKey, errorCode: 0, eventId: 3000 };
  }
}

export const notFound = (): HttpError => new HttpError(404, 'The resource cannot be found.', 'NotFound');

/** `{ count, value }`, the service's list shape. */
export const list = <T>(value: T[]): { count: number; value: T[] } => ({ count: value.length, value });

/** An enum given as its number or (any case) its name, returned as the service's camelCase name. */
export function parseEnum(value: unknown, names: string[]): string | undefined {
  if (typeof value === 'number') return names[value];
  const text = String(value);
  if (/^\d+$/.test(text)) return names[Number(text)];
  return names.find((n) => n.toLowerCase() === text.toLowerCase());
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
