import Delaunator from 'delaunator';
import { MESH_POINTS } from '../face/mesh.js';
import { REFERENCE_FACE } from './reference.js';

/**
 * The triangulation of the 468 mesh points, derived from the points themselves (no copied topology table):
 * a Delaunay triangulation of the frontal reference face, unrolled around a vertical axis first so the cheeks
 * and jaw sides, which a frontal view squeezes into slivers, get well-shaped triangles. Delaunay covers the
 * convex hull, so triangles that bridge a concave stretch of the outline (long thin ones along the border) are
 * dropped. Eyes and mouth stay covered: the warp must move the eye whites, teeth and lips with the face.
 *
 * `TRIANGLES` holds vertex index triples, wound clockwise on screen (in the y-down image frame) when the face
 * looks at the camera, i.e. a triangle faces the camera when its screen-space signed area
 * (x1-x0)(y2-y0) - (x2-x0)(y1-y0) is positive.
 */

/** Depth of the unrolling axis behind the reference face's mean depth, in reference units (face width 100). */
const UNROLL_AXIS_DEPTH = 60;

function unrolled(ref: Float32Array): Float64Array {
  const out = new Float64Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = ref[i * 3] ?? 0;
    const y = ref[i * 3 + 1] ?? 0;
    const z = ref[i * 3 + 2] ?? 0;
    // Arc length around the axis: points on a cylinder of radius UNROLL_AXIS_DEPTH keep their spacing.
    out[i * 2] = Math.atan2(x, UNROLL_AXIS_DEPTH - z) * UNROLL_AXIS_DEPTH;
    out[i * 2 + 1] = y;
  }
  return out;
}

function buildTriangles(): Uint16Array {
  const flat = unrolled(REFERENCE_FACE);
  const d = new Delaunator(flat);
  const t = d.triangles;
  const edge = (a: number, b: number): number =>
    Math.hypot((flat[a * 2] ?? 0) - (flat[b * 2] ?? 0), (flat[a * 2 + 1] ?? 0) - (flat[b * 2 + 1] ?? 0));
  // Typical edge length, to tell real triangles from hull bridges.
  const lengths: number[] = [];
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] ?? 0;
    const b = t[i + 1] ?? 0;
    const c = t[i + 2] ?? 0;
    lengths.push(edge(a, b), edge(b, c), edge(c, a));
  }
  lengths.sort((x, y) => x - y);
  const median = lengths[Math.floor(lengths.length / 2)] ?? 1;
  const kept: number[] = [];
  for (let i = 0; i < t.length; i += 3) {
    const a = t[i] ?? 0;
    const b = t[i + 1] ?? 0;
    const c = t[i + 2] ?? 0;
    const ab = edge(a, b);
    const bc = edge(b, c);
    const ca = edge(c, a);
    const longest = Math.max(ab, bc, ca);
    const s = (ab + bc + ca) / 2;
    const area = Math.sqrt(Math.max(0, s * (s - ab) * (s - bc) * (s - ca)));
    // Only hull triangles can be bridges; keep every interior one.
    const onHull = d.halfedges[i] === -1 || d.halfedges[i + 1] === -1 || d.halfedges[i + 2] === -1;
    if (onHull && longest > 2.5 * median && area < 0.2 * longest * longest) continue;
    // Wind every triangle the same way on screen (positive signed area in the y-down frame means front-facing).
    const cross =
      ((flat[b * 2] ?? 0) - (flat[a * 2] ?? 0)) * ((flat[c * 2 + 1] ?? 0) - (flat[a * 2 + 1] ?? 0)) -
      ((flat[c * 2] ?? 0) - (flat[a * 2] ?? 0)) * ((flat[b * 2 + 1] ?? 0) - (flat[a * 2 + 1] ?? 0));
    if (cross > 0) kept.push(a, b, c);
    else kept.push(a, c, b);
  }
  return Uint16Array.from(kept);
}

/** Vertex index triples, `TRIANGLE_COUNT` of them. */
export const TRIANGLES: Uint16Array = buildTriangles();
export const TRIANGLE_COUNT: number = TRIANGLES.length / 3;

/**
 * The outline of the triangulated face: boundary vertices in order around the face. The displacement field that
 * carries hair, ears and neck along is anchored on these.
 */
export const BOUNDARY: Uint16Array = buildBoundary(TRIANGLES);

function buildBoundary(tris: Uint16Array): Uint16Array {
  // Boundary edges are the ones used by exactly one triangle; follow them from vertex to vertex.
  const count = new Map<number, number>();
  const key = (a: number, b: number): number => (a < b ? a * MESH_POINTS + b : b * MESH_POINTS + a);
  for (let i = 0; i < tris.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = tris[i + k] ?? 0;
      const b = tris[i + ((k + 1) % 3)] ?? 0;
      count.set(key(a, b), (count.get(key(a, b)) ?? 0) + 1);
    }
  }
  const next = new Map<number, number>();
  for (let i = 0; i < tris.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = tris[i + k] ?? 0;
      const b = tris[i + ((k + 1) % 3)] ?? 0;
      if (count.get(key(a, b)) === 1) next.set(a, b);
    }
  }
  const start = next.keys().next().value;
  if (start === undefined) return new Uint16Array(0);
  const loop: number[] = [start];
  for (let v = next.get(start); v !== undefined && v !== start && loop.length <= next.size; v = next.get(v)) {
    loop.push(v);
  }
  return Uint16Array.from(loop);
}
