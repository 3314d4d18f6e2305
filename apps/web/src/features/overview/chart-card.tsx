/**
 * A card that shows one set of figures as a chart or as a table. The table is the accessible view
 * (screen readers, keyboard users, copying numbers): same figures, one switch away, and the
 * switch state is announced through aria-pressed. The chart figure carries a one-line summary.
 */
import { useState, type JSX, type ReactNode } from 'react';

export function ChartCard({
  id,
  title,
  summary,
  chart,
  table,
}: {
  id: string;
  title: string;
  /** One sentence that says what the chart shows, for the figure's accessible description. */
  summary: string;
  chart: ReactNode;
  table: ReactNode;
}): JSX.Element {
  const [view, setView] = useState<'chart' | 'table'>('chart');
  return (
    <section className="card chart-card" aria-labelledby={`${id}-heading`}>
      <div className="chart-head">
        <h2 id={`${id}-heading`}>{title}</h2>
        <div role="group" aria-label={`${title} view`} className="view-switch">
          <button
            type="button"
            className="secondary small"
            aria-pressed={view === 'chart'}
            onClick={() => setView('chart')}
          >
            Chart
          </button>
          <button
            type="button"
            className="secondary small"
            aria-pressed={view === 'table'}
            onClick={() => setView('table')}
          >
            Table
          </button>
        </div>
      </div>
      <p className="hint" id={`${id}-summary`}>
        {summary}
      </p>
      {view === 'chart' ? (
        <figure className="chart" aria-describedby={`${id}-summary`} data-chart={id}>
          {chart}
        </figure>
      ) : (
        table
      )}
    </section>
  );
}

/** Chart colours: distinguishable in the common colour-vision deficiencies (Okabe-Ito). */
export const COLOURS = {
  blue: '#0072B2',
  orange: '#E69F00',
  red: '#D55E00',
  green: '#009E73',
  purple: '#CC79A7',
  grey: '#6b7280',
  sky: '#56B4E9',
} as const;
