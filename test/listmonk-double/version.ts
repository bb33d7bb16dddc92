/** Version of the Listmonk the double impersonates: gates the behaviours that differ between versions. */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

export function parse(raw: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(raw);
  if (!m) throw new Error(`listmonk double: bad version ${raw} (want e.g. v6.2.0)`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw: raw.startsWith('v') ? raw : `v${raw}` };
}

export const atLeast = (v: Version, major: number, minor = 0) => v.major > major || (v.major === major && v.minor >= minor);
