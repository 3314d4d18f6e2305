/**
 * The two XML libraries node-saml itself uses (@xmldom/xmldom, xpath), loaded with narrow local
 * types: their own declarations pull the DOM library into the whole package, which would change
 * what `Response` and `Headers` mean everywhere else. Read-only use: metadata and the response's
 * Destination; signatures are node-saml's.
 */
import { createRequire } from 'node:module';

export interface XmlElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
}

interface XmlDocument {
  documentElement: XmlElement | null;
}

interface ErrorHandler {
  warning?: (message: string) => void;
  error?: (message: string) => void;
  fatalError?: (message: string) => void;
}

const require = createRequire(import.meta.url);
const xmldom = require('@xmldom/xmldom') as {
  DOMParser: new (options: { errorHandler: ErrorHandler }) => {
    parseFromString(xml: string, mimeType: string): XmlDocument;
  };
};
const xpath = require('xpath') as { select(expression: string, node: unknown): unknown };

/** Parses XML; null when it is not well-formed (any error or fatal error). */
export function parseXml(xml: string): XmlDocument | null {
  const errors: string[] = [];
  const doc = new xmldom.DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m) => errors.push(m),
      fatalError: (m) => errors.push(m),
    },
  }).parseFromString(xml, 'text/xml');
  return errors.length > 0 || !doc.documentElement ? null : doc;
}

export function selectElements(expression: string, node: unknown): XmlElement[] {
  const found = xpath.select(expression, node);
  return Array.isArray(found) ? (found as XmlElement[]) : [];
}
