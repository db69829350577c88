/** WGS84 geodesy: geodetic ↔ ECEF ↔ local East-North-Up metres, and great-circle helpers. */

export interface LatLon {
  lat: number;
  lon: number;
}

export interface LatLonAlt extends LatLon {
  /** metres above the ellipsoid */
  alt: number;
}

export interface Enu {
  e: number;
  n: number;
  u: number;
}

const A = 6378137.0; // semi-major axis, m
const F = 1 / 298.257223563;
const B = A * (1 - F);
const E2 = F * (2 - F); // first eccentricity squared
const EP2 = (A * A - B * B) / (B * B); // second eccentricity squared
/** Mean Earth radius (IUGG), m: what haversine distances use. */
export const EARTH_MEAN_RADIUS_M = 6371008.8;
/** Metres of great circle per degree on the mean sphere (one degree of latitude). */
export const METERS_PER_DEGREE = (EARTH_MEAN_RADIUS_M * Math.PI) / 180;

const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

export function geodeticToEcef({ lat, lon, alt }: LatLonAlt): [number, number, number] {
  const phi = rad(lat);
  const lambda = rad(lon);
  const sinPhi = Math.sin(phi);
  const n = A / Math.sqrt(1 - E2 * sinPhi * sinPhi);
  return [
    (n + alt) * Math.cos(phi) * Math.cos(lambda),
    (n + alt) * Math.cos(phi) * Math.sin(lambda),
    (n * (1 - E2) + alt) * sinPhi,
  ];
}

/** Bowring's method: sub-millimetre near the Earth's surface. */
export function ecefToGeodetic([x, y, z]: [number, number, number]): LatLonAlt {
  const p = Math.hypot(x, y);
  const theta = Math.atan2(z * A, p * B);
  const sinT = Math.sin(theta);
  const cosT = Math.cos(theta);
  const phi = Math.atan2(z + EP2 * B * sinT ** 3, p - E2 * A * cosT ** 3);
  const sinPhi = Math.sin(phi);
  const n = A / Math.sqrt(1 - E2 * sinPhi * sinPhi);
  const alt = Math.abs(Math.cos(phi)) > 1e-12 ? p / Math.cos(phi) - n : Math.abs(z) - B;
  return { lat: deg(phi), lon: deg(Math.atan2(y, x)), alt };
}

/** A local tangent plane at `origin`: exact conversions both ways, in metres. */
export class LocalFrame {
  readonly origin: LatLonAlt;
  private readonly originEcef: [number, number, number];
  private readonly sinLat: number;
  private readonly cosLat: number;
  private readonly sinLon: number;
  private readonly cosLon: number;

  constructor(origin: LatLon & { alt?: number }) {
    this.origin = { lat: origin.lat, lon: origin.lon, alt: origin.alt ?? 0 };
    this.originEcef = geodeticToEcef(this.origin);
    this.sinLat = Math.sin(rad(origin.lat));
    this.cosLat = Math.cos(rad(origin.lat));
    this.sinLon = Math.sin(rad(origin.lon));
    this.cosLon = Math.cos(rad(origin.lon));
  }

  toEnu(p: LatLon & { alt?: number }): Enu {
    const [x, y, z] = geodeticToEcef({ lat: p.lat, lon: p.lon, alt: p.alt ?? 0 });
    const dx = x - this.originEcef[0];
    const dy = y - this.originEcef[1];
    const dz = z - this.originEcef[2];
    return {
      e: -this.sinLon * dx + this.cosLon * dy,
      n: -this.sinLat * this.cosLon * dx - this.sinLat * this.sinLon * dy + this.cosLat * dz,
      u: this.cosLat * this.cosLon * dx + this.cosLat * this.sinLon * dy + this.sinLat * dz,
    };
  }

  fromEnu({ e, n, u }: Enu): LatLonAlt {
    const dx = -this.sinLon * e - this.sinLat * this.cosLon * n + this.cosLat * this.cosLon * u;
    const dy = this.cosLon * e - this.sinLat * this.sinLon * n + this.cosLat * this.sinLon * u;
    const dz = this.cosLat * n + this.sinLat * u;
    return ecefToGeodetic([this.originEcef[0] + dx, this.originEcef[1] + dy, this.originEcef[2] + dz]);
  }
}

/** Great-circle distance on the mean sphere (within ~0.5% of the ellipsoidal distance). */
export function haversineMeters(a: LatLon, b: LatLon): number {
  const dPhi = rad(b.lat - a.lat);
  const dLambda = rad(b.lon - a.lon);
  const h = Math.sin(dPhi / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLambda / 2) ** 2;
  return 2 * EARTH_MEAN_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b, degrees clockwise from north in [0, 360). */
export function bearingDegrees(a: LatLon, b: LatLon): number {
  const phi1 = rad(a.lat);
  const phi2 = rad(b.lat);
  const dLambda = rad(b.lon - a.lon);
  const y = Math.sin(dLambda) * Math.cos(phi2);
  const x = Math.cos(phi1) * Math.sin(phi2) - Math.sin(phi1) * Math.cos(phi2) * Math.cos(dLambda);
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

/** The point `distanceM` away from `start` along `bearingDeg`, on the mean sphere. */
export function destination(start: LatLon, bearingDeg: number, distanceM: number): LatLon {
  const delta = distanceM / EARTH_MEAN_RADIUS_M;
  const theta = rad(bearingDeg);
  const phi1 = rad(start.lat);
  const lambda1 = rad(start.lon);
  const phi2 = Math.asin(Math.sin(phi1) * Math.cos(delta) + Math.cos(phi1) * Math.sin(delta) * Math.cos(theta));
  const lambda2 =
    lambda1 + Math.atan2(Math.sin(theta) * Math.sin(delta) * Math.cos(phi1), Math.cos(delta) - Math.sin(phi1) * Math.sin(phi2));
  return { lat: deg(phi2), lon: ((deg(lambda2) + 540) % 360) - 180 };
}
