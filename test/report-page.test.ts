/**
 * The report's charts and page without a database: chart options drawn from known series (the
 * spike in the danger colour, hold bands, the days below the DKIM minimum, the Yahoo family's
 * count), and the page itself — self-contained (no script, nothing fetched), untrusted text
 * escaped, unique SVG ids, under 1 MB for 90 days, and still a page when there is nothing to draw.
 */
import { describe, expect, it } from 'vitest';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import { dkimChart } from '../src/reports/charts/dkim.ts';
import { providersChart } from '../src/reports/charts/providers.ts';
import { rampChart } from '../src/reports/charts/ramp.ts';
import { labelWidth } from '../src/reports/charts/render.ts';
import { DANGER, formatPercent } from '../src/reports/charts/theme.ts';
import type { ReportData } from '../src/reports/data/collect.ts';
import type { ProviderCounts } from '../src/reports/data/providers.ts';
import type { RampDay } from '../src/reports/data/ramp.ts';
import { CONTENT_SECURITY_POLICY, renderPage } from '../src/reports/html/page.ts';
import { reportRange } from '../src/reports/range.ts';
import { escapeHtml } from '../src/text/html.ts';

const NOW = new Date('2026-11-28T12:00:00Z');
const TZ = 'America/Chicago';
/** What a hostile census row, log line or operator could put in front of the page. */
const HOSTILE = '<script>alert("x")</script><img src=https://evil.example/x onerror=alert(1)>\x1b[31m\u202Eevil';

function counts(sent: number, deferred = 0, bounced = 0, counted = true): ProviderCounts {
  const attempts = sent + deferred + bounced;
  return { sent, deferred, bounced, expired: 0, attempts, rate: counted && attempts ? sent / attempts : null };
}

/** A report of `days` days with something in every chart, and hostile text wherever text comes from outside. */
function sample(days: number, opts: { empty?: boolean } = {}): ReportData {
  const range = reportRange({ days }, NOW, TZ);
  const full = !opts.empty;
  const ramp: RampDay[] = range.days.map((date, i) => {
    const cap = i < 3 ? 500 : 3000;
    const push = full ? (i === 5 ? 3400 : Math.round(cap * 0.9)) : 0;
    const sent = full ? push - 40 : 0;
    return { date, warmupDay: i, cap, ceiling: 4000, pushed: { mcs150: push - 300 * Number(full), 'new-carrier': 300 * Number(full) }, pushedTotal: push, reserved: 0, refused: 1, sent, deferred: 30, bounced: 25, expired: 2, finished: sent + 27, overCap: push > cap, overCeiling: false };
  });
  const groups = ['google', 'microsoft365', 'outlook_consumer', 'yahoo', 'other'];
  return {
    range,
    timeZone: TZ,
    header: {
      date: range.to,
      asOf: NOW.toISOString(),
      warmup: { start: '2026-08-01', source: 'date 2026-08-01', day: 119, dailyCap: 3000, hourlyCap: 300 },
      used: 1200,
      holds: full
        ? [
            { scope: 'provider', provider: 'google', domain: null, mxHost: null, reason: 'reputation_block', detail: HOSTILE, since: NOW.toISOString(), until: '2026-11-30T12:00:00.000Z' },
            { scope: 'domain', provider: null, domain: 'small-fleet.example', mxHost: 'mx.small-fleet.example', reason: 'reputation_block', detail: HOSTILE, since: NOW.toISOString(), until: '2026-11-30T12:00:00.000Z' },
          ]
        : [],
      gates: {
        date: range.to,
        wouldRun: !full,
        checks: [
          { gate: 'warmup', ok: true, detail: 'warmup day 119: cap 3000 a day, 300 an hour' },
          { gate: 'global_hold', ok: !full, detail: full ? `refusing to push: ${HOSTILE}` : 'no global hold' },
          { gate: 'listmonk', ok: true, detail: 'Listmonk is configured' },
          { gate: 'cap', ok: true, detail: '1200 of 3000 used' },
        ],
      },
    },
    ramp,
    segments: ['mcs150', 'new-carrier'],
    providers: {
      groups,
      yahooAttempts: 0,
      days: range.days.map((date, i) => ({ date, counted: i > 1, groups: Object.fromEntries(groups.map((g) => [g, g === 'yahoo' || !full ? counts(0) : counts(1000 - i, i, i % 7, i > 1)])) })),
    },
    holds: full
      ? [
          { scope: 'provider', provider: 'google', domain: null, mxHost: null, reason: 'reputation_block', detail: HOSTILE, startsAt: NOW, endedAt: null, fromDay: range.days[days - 3]!, toDay: range.to, lifted: false },
          { scope: 'domain', provider: null, domain: 'small-fleet.example', mxHost: 'mx.small-fleet.example', reason: 'reputation_block', detail: HOSTILE, startsAt: NOW, endedAt: null, fromDay: range.days[days - 2]!, toDay: range.to, lifted: false },
        ]
      : [],
    dkim: {
      minimum: 0.95,
      minMessages: 20,
      streams: full ? ['trucking', 'healthcare'] : [],
      days: range.days.map((date, i) => {
        const signed = full ? (i === 7 ? 800 : 1000) : 0;
        const messages = full ? 1000 : 0;
        return { date, messages, signed, coverage: messages ? signed / messages : null, below: full && i === 7, tooFew: false, streams: full ? { trucking: { messages: 700, signed: 700, coverage: 1 }, healthcare: { messages: 300, signed: signed - 700, coverage: (signed - 700) / 300 } } : ({} as Record<string, never>) };
      }),
    },
    reasons: {
      lastDay: full ? range.days[days - 2]! : null,
      lastDayRows: full ? [{ status: 'bounced', class: 'recipient_invalid', dsn: '5.1.1', provider: 'other', count: 4, said: HOSTILE }] : [],
      periodRows: full
        ? [
            ...Array.from({ length: 8 }, (_, i) => ({ status: 'deferred' as const, class: 'rate_limited', dsn: `4.7.${i}"><svg onload=alert(1)>`, provider: 'google', count: 100 - i, said: `${HOSTILE} ${'x'.repeat(280)}` })),
            ...Array.from({ length: 8 }, (_, i) => ({ status: 'bounced' as const, class: 'recipient_invalid', dsn: `5.1.${i}`, provider: 'other', count: 50 - i, said: HOSTILE })),
          ]
        : [],
    },
    audience: {
      segments: ['mcs150', 'new-carrier'],
      days: Array.from({ length: 14 }, (_, i) => ({ date: `2026-12-${String(i + 1).padStart(2, '0')}`, warmupDay: 120 + i, hourly: 300, daily: 3000, eligible: { mcs150: 40_000, 'new-carrier': 9000 }, eligibleTotal: 49_000, candidates: 60_000, excluded: {} })),
      candidates: 60_000,
      excluded: full ? [{ code: 'cooldown', count: 8000 }, { code: 'mx_unknown', count: 3000 }] : [],
      daysOfAudienceLeft: 17,
    },
  };
}

describe('report charts', () => {
  it('the ramp: a day over the cap is drawn in the danger colour and pinned with how far over', () => {
    const d = sample(30);
    const spec = rampChart(d.ramp, d.segments);
    const series = spec.option.series as (BarSeriesOption | LineSeriesOption)[];
    const mcs = series.find((s) => s.name === 'pushed: mcs150') as BarSeriesOption;
    expect(mcs.data![5]).toEqual({ value: 3100, itemStyle: { color: DANGER } });
    expect(mcs.data![6]).toBe(2400);
    const cap = series.find((s) => s.name === 'cap') as LineSeriesOption;
    expect(cap.markPoint!.data).toEqual([expect.objectContaining({ name: '+400' })]);
    expect((cap.markLine!.data as { yAxis: number }[])[0]!.yAxis).toBe(4000);
  });

  it('per provider: a band per provider or global hold (domain holds are listed, not drawn), and the Yahoo family counted in its legend entry', () => {
    const d = sample(30);
    const spec = providersChart(d.providers, d.holds);
    const series = spec.option.series as LineSeriesOption[];
    expect(series.map((s) => s.name)).toEqual(['Google', 'Microsoft 365', 'Outlook.com', 'Yahoo family (0 attempts)', 'Others', 'holds']);
    expect(series.at(-1)!.markArea!.data).toHaveLength(1);
    // Days without per-provider counts are gaps, not zeros.
    expect(series[0]!.data!.slice(0, 3)).toEqual(['-', '-', 99.6]);
  });

  it('DKIM: the minimum as a line and the days below it marked', () => {
    const d = sample(30);
    const total = (dkimChart(d.dkim).option.series as LineSeriesOption[]).find((s) => s.name === 'all campaign mail')!;
    expect((total.markLine!.data as { yAxis: number }[])[0]!.yAxis).toBe(95);
    expect(total.markPoint!.data).toEqual([expect.objectContaining({ coord: [expect.any(String), 80] })]);
  });

  it('formats a share rounded down, so a miss never reads as the minimum', () => {
    expect(formatPercent(0.94996)).toBe('94.9%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(null)).toBe('—');
    expect(labelWidth(['5.7.606 reputation_block · Microsoft 365'])).toBeGreaterThan(labelWidth(['5.1.1 mailbox_full · Others']));
  });
});

describe('report page', () => {
  const page = renderPage(sample(30), { generatedAt: NOW });

  it('is self-contained: no script, no font, nothing to fetch, and a policy that forbids fetching', () => {
    expect(page.html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(page.html).not.toMatch(/<script/i);
    // url(#id) is an SVG clip path within the page.
    expect(page.html).not.toMatch(/<link|@import|@font-face|url\((?!#)/i);
    // No tag with an attribute that would load anything; the only URLs in tags are the SVG namespaces.
    // (Escaped text holds no '<', so every match below is a real tag.)
    const tags = [...page.html.matchAll(/<[a-z][^>]*>/gi)].map((m) => m[0]);
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((t) => /\s(?:src|href|xlink:href|action|poster|srcset)\s*=/i.test(t))).toEqual([]);
    expect(tags.flatMap((t) => [...t.matchAll(/https?:\/\/[^\s"']+/g)].map((m) => m[0])).filter((u) => !u.startsWith('http://www.w3.org/'))).toEqual([]);
  });

  it('escapes every piece of untrusted text: hold details, what servers said, DSNs, gate details', () => {
    expect(page.html).not.toContain('<script>alert');
    expect(page.html).not.toContain('<img src=');
    expect(page.html).not.toContain('<svg onload');
    expect(page.html).not.toContain('\x1b');
    expect(page.html).not.toContain('\u202e');
    expect(page.html).toContain(escapeHtml(HOSTILE));
    expect(escapeHtml(HOSTILE)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=https://evil.example/x onerror=alert(1)&gt;\\x1B[31m\\u202Eevil');
  });

  it('draws seven charts, each an SVG labelled with its title, with ids unique in the page', () => {
    expect(page.charts.map((c) => c.id)).toEqual(['ramp', 'providers', 'dkim', 'deferrals', 'bounces', 'audience', 'exclusions']);
    const svgs = [...page.html.matchAll(/<svg role="img" aria-label="([^"]+)" class="chart" data-chart="([^"]+)"/g)];
    expect(svgs.map((m) => m[2])).toEqual(page.charts.map((c) => c.id));
    const ids = [...page.html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(7);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows the verdict of the gates and the days over the cap in its tables', () => {
    expect(page.html).toContain('✗ audience build would not run now: global hold');
    expect(page.html).toMatch(/<tr class="bad"><td class="bad">2026-11-04<small>over the cap<\/small>/);
    expect(page.html).toContain('Yahoo family (Yahoo, AOL, Verizon, AT&amp;T, Cox, Rogers): no delivery attempt in these days, as it should be.');
    expect(page.html).toContain('<td>small-fleet.example hold: reputation_block<small>mail server mx.small-fleet.example</small></td>');
    expect(page.html).toContain('<small>Google, 1 domain(s)</small>');
  });

  it('stays under 1 MB for 90 days', () => {
    const big = renderPage(sample(90), { generatedAt: NOW });
    expect(Buffer.byteLength(big.html)).toBeLessThan(1_000_000);
  });

  it('with nothing to draw it is still a page, and says so', () => {
    const empty = renderPage(sample(7, { empty: true }), { generatedAt: NOW });
    expect(empty.html).toContain('No deferral in these days.');
    expect(empty.html).toContain('No bounce in these days.');
    expect(empty.html).toContain(escapeHtml("None of today's 60,000 candidate(s) is excluded."));
    expect(empty.html).toContain('✓ audience build would run now');
    expect(empty.charts.map((c) => c.id)).toEqual(['ramp', 'providers', 'dkim', 'audience']);
  });
});
