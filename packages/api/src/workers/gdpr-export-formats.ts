/**
 * Export file formats, each an async stream of bytes pulled from the subject's rows a
 * batch at a time, so nothing holds the whole export in memory:
 *  - json: one structured, machine-readable document (Art. 20 portability);
 *  - csv:  a zip (yazl) with one CSV per source (csv-stringify, formula cells escaped against CSV
 *          injection) and a README describing each file;
 *  - pdf:  a readable report (pdfkit, standard Helvetica: text outside Latin-1 is not rendered).
 */
import { Readable } from 'node:stream';
import {
  sourceRecords,
  type ExportRecord,
  type PersonalDataSource,
  type PrivacySubject,
} from '@tessera/auth/privacy';
import type { PrivacyExportFormat, TenantTx } from '@tessera/db';
import { stringify } from 'csv-stringify/sync';
import PDFDocument from 'pdfkit';
import { ZipFile } from 'yazl';

export interface ExportContext {
  tx: TenantTx;
  sources: readonly PersonalDataSource[];
  subject: PrivacySubject;
  tenant: { id: string; name: string };
  generatedAt: Date;
  /** Rows per database round trip. */
  batchSize?: number;
}

export interface ExportFile {
  contentType: string;
  fileName: string;
  body: AsyncIterable<Uint8Array | string>;
}

export const EXPORT_FORMAT_VERSION = 1;

export function renderExport(format: PrivacyExportFormat, context: ExportContext): ExportFile {
  const day = context.generatedAt.toISOString().slice(0, 10);
  switch (format) {
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        fileName: `personal-data-${day}.json`,
        body: jsonExport(context),
      };
    case 'csv':
      return {
        contentType: 'application/zip',
        fileName: `personal-data-${day}.zip`,
        body: csvZipExport(context),
      };
    case 'pdf':
      return {
        contentType: 'application/pdf',
        fileName: `personal-data-${day}.pdf`,
        body: pdfExport(context),
      };
  }
}

const records = (
  context: ExportContext,
  source: PersonalDataSource,
): AsyncGenerator<ExportRecord> =>
  sourceRecords(context.tx, source, context.subject, context.batchSize ?? 500);

async function* jsonExport(context: ExportContext): AsyncGenerator<string> {
  const head = {
    format: 'tessera.personal-data-export',
    version: EXPORT_FORMAT_VERSION,
    generatedAt: context.generatedAt.toISOString(),
    tenant: context.tenant,
    subject: { userId: context.subject.userId },
  };
  yield `${JSON.stringify(head).slice(0, -1)},"sources":{`;
  let firstSource = true;
  for (const source of context.sources) {
    yield `${firstSource ? '' : ','}${JSON.stringify(source.name)}:{"description":${JSON.stringify(source.description)},"records":[`;
    firstSource = false;
    let batch: string[] = [];
    let first = true;
    for await (const record of records(context, source)) {
      batch.push(JSON.stringify(record));
      if (batch.length === 200) {
        yield `${first ? '' : ','}${batch.join(',')}`;
        first = false;
        batch = [];
      }
    }
    if (batch.length > 0) yield `${first ? '' : ','}${batch.join(',')}`;
    yield ']}';
  }
  yield '}}\n';
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return value.toString();
  return JSON.stringify(value);
}

async function* csvRows(
  context: ExportContext,
  source: PersonalDataSource,
): AsyncGenerator<string> {
  const options = {
    columns: [...source.columns],
    escape_formulas: true,
    cast: { boolean: (v: boolean) => String(v), object: cell },
  };
  yield stringify([], { ...options, header: true });
  let batch: ExportRecord[] = [];
  for await (const record of records(context, source)) {
    batch.push(record);
    if (batch.length === 200) {
      yield stringify(batch, options);
      batch = [];
    }
  }
  if (batch.length > 0) yield stringify(batch, options);
}

async function* csvZipExport(context: ExportContext): AsyncGenerator<Buffer> {
  const zip = new ZipFile();
  const mtime = context.generatedAt;
  const readme = [
    `Personal data held by ${context.tenant.name} about user ${context.subject.userId}`,
    `Generated ${context.generatedAt.toISOString()}`,
    '',
    ...context.sources.map((s) => `${s.name}.csv: ${s.description}`),
  ].join('\r\n');
  zip.addBuffer(Buffer.from(`${readme}\r\n`, 'utf8'), 'README.txt', { mtime });
  // Readable.from(generator) is lazy, and yazl pumps one entry at a time: one source is read at once.
  const entries = context.sources.map((source) => {
    const entry = Readable.from(csvRows(context, source));
    entry.on('error', (error) => (zip.outputStream as Readable).destroy(error)); // surfaces in the loop below
    zip.addReadStream(entry, `${source.name}.csv`, { mtime });
    return entry;
  });
  zip.end();
  try {
    for await (const chunk of zip.outputStream) yield chunk as Buffer;
  } finally {
    // The consumer stopped early (its transaction failed): stop reading rows from its cursor.
    for (const entry of entries) entry.destroy();
  }
}

async function* pdfExport(context: ExportContext): AsyncGenerator<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: {
      Title: 'Personal data export',
      Author: context.tenant.name,
      CreationDate: context.generatedAt,
    },
  });
  // pdfkit pushes finished pages into its readable buffer; drain it between batches.
  const drain = function* (): Generator<Buffer> {
    for (
      let chunk = doc.read() as Buffer | null;
      chunk !== null;
      chunk = doc.read() as Buffer | null
    )
      yield chunk;
  };
  doc.font('Helvetica-Bold').fontSize(18).text('Personal data export');
  doc
    .font('Helvetica')
    .fontSize(10)
    .moveDown(0.5)
    .text(`Organisation: ${context.tenant.name}`)
    .text(`User id: ${context.subject.userId}`)
    .text(`Generated: ${context.generatedAt.toISOString()}`);
  for (const source of context.sources) {
    doc.moveDown(1).font('Helvetica-Bold').fontSize(13).text(source.name.replace(/_/g, ' '));
    doc
      .font('Helvetica-Oblique')
      .fontSize(9)
      .text(source.description)
      .font('Helvetica')
      .fontSize(9);
    let count = 0;
    for await (const record of records(context, source)) {
      doc.moveDown(0.4);
      for (const column of source.columns)
        doc.text(`${column}: ${cell(record[column]) || '-'}`, { lineBreak: true });
      count += 1;
      if (count % 50 === 0) yield* drain();
    }
    if (count === 0) doc.moveDown(0.4).text('(nothing held)');
    yield* drain();
  }
  const ended = new Promise<void>((resolve) => doc.once('end', resolve));
  doc.end();
  yield* drain();
  await Promise.race([ended, new Promise<void>((resolve) => setImmediate(resolve))]);
  yield* drain();
}
