/**
 * Normals and a coarse z-buffered rasterisation of a face mesh, for shading. Shading is smooth, so it is computed
 * on a grid of cells a few pixels wide and upsampled; textures never go through here.
 *
 * Input points follow `FaceMesh` (src/pipeline/face/mesh.ts): x right, y down, z away from the camera, all in
 * image pixels. Normals come out in the CAMERA frame the SH code uses (src/pipeline/lighting/sh.ts): X right,
 * Y up, Z towards the camera, i.e. (x, -y, -z).
 */

/**
 * Per-triangle sign (+1/-1) that makes triangle normals face the camera. A consistently wound triangulation (the
 * usual case: Delaunay or MediaPipe's topology) gets one global sign chosen by the majority, so triangles that
 * really face away (the far cheek of a turned head) keep pointing away; a mixed winding falls back to orienting
 * each triangle towards the camera.
 */
export function triangleOrientation(points: Float32Array, triangles: ArrayLike<number>): Int8Array {
  const n = Math.floor(triangles.length / 3);
  const out = new Int8Array(n);
  let positive = 0;
  for (let t = 0; t < n; t++) {
    const [, , nz] = triangleNormal(points, triangles, t);
    out[t] = nz >= 0 ? 1 : -1;
    if (nz >= 0) positive++;
  }
  const share = n > 0 ? positive / n : 1;
  if (share >= 0.8) out.fill(1);
  else if (share <= 0.2) out.fill(-1);
  return out;
}

/** Unnormalised (area-weighted) camera-frame normal of triangle t, with the winding as given. */
function triangleNormal(points: Float32Array, tris: ArrayLike<number>, t: number): [number, number, number] {
  const i = (tris[3 * t] ?? 0) * 3;
  const j = (tris[3 * t + 1] ?? 0) * 3;
  const k = (tris[3 * t + 2] ?? 0) * 3;
  // Camera frame: (x, -y, -z).
  const ax = (points[j] ?? 0) - (points[i] ?? 0);
  const ay = -((points[j + 1] ?? 0) - (points[i + 1] ?? 0));
  const az = -((points[j + 2] ?? 0) - (points[i + 2] ?? 0));
  const bx = (points[k] ?? 0) - (points[i] ?? 0);
  const by = -((points[k + 1] ?? 0) - (points[i + 1] ?? 0));
  const bz = -((points[k + 2] ?? 0) - (points[i + 2] ?? 0));
  return [ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx];
}

/**
 * Unit vertex normals (camera frame), area-weighted over the triangles around each vertex. `orientation` (from
 * `triangleOrientation` on the REFERENCE mesh) keeps a triangle's side fixed when the head turns, so a triangle
 * turned away from the camera in the target gets a normal pointing away, as it should.
 */
export function vertexNormals(
  points: Float32Array,
  triangles: ArrayLike<number>,
  orientation: Int8Array,
): Float32Array {
  const count = Math.floor(points.length / 3);
  const out = new Float32Array(count * 3);
  const n = Math.floor(triangles.length / 3);
  for (let t = 0; t < n; t++) {
    const s = orientation[t] ?? 1;
    const [nx, ny, nz] = triangleNormal(points, triangles, t);
    for (let v = 0; v < 3; v++) {
      const i = (triangles[3 * t + v] ?? 0) * 3;
      out[i] = (out[i] ?? 0) + s * nx;
      out[i + 1] = (out[i + 1] ?? 0) + s * ny;
      out[i + 2] = (out[i + 2] ?? 0) + s * nz;
    }
  }
  for (let i = 0; i < count; i++) {
    const x = out[3 * i] ?? 0;
    const y = out[3 * i + 1] ?? 0;
    const z = out[3 * i + 2] ?? 0;
    const len = Math.hypot(x, y, z);
    if (len > 0) {
      out[3 * i] = x / len;
      out[3 * i + 1] = y / len;
      out[3 * i + 2] = z / len;
    } else {
      out[3 * i + 2] = 1;
    }
  }
  return out;
}

/** A grid over the image: cell (gx, gy) covers image pixels [gx*cell, (gx+1)*cell) x [gy*cell, (gy+1)*cell). */
export interface Grid {
  width: number;
  height: number;
  /** Image pixels per cell. */
  cell: number;
}

export function gridFor(imageWidth: number, imageHeight: number, cell: number): Grid {
  const c = Math.max(1, cell);
  return { width: Math.ceil(imageWidth / c), height: Math.ceil(imageHeight / c), cell: c };
}

/** Which triangle covers each cell centre (nearest to the camera), and where inside it (barycentric w0, w1). */
export interface MeshRaster extends Grid {
  /** Triangle index per cell, -1 where the mesh does not cover the cell. */
  tri: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
  /** Cells covered. */
  covered: number;
}

export function rasterizeMesh(points: Float32Array, triangles: ArrayLike<number>, grid: Grid): MeshRaster {
  const { width, height, cell } = grid;
  const size = width * height;
  const tri = new Int32Array(size).fill(-1);
  const w0 = new Float32Array(size);
  const w1 = new Float32Array(size);
  const depth = new Float32Array(size).fill(Number.NEGATIVE_INFINITY);
  const n = Math.floor(triangles.length / 3);
  let covered = 0;
  for (let t = 0; t < n; t++) {
    const i = (triangles[3 * t] ?? 0) * 3;
    const j = (triangles[3 * t + 1] ?? 0) * 3;
    const k = (triangles[3 * t + 2] ?? 0) * 3;
    // Grid coordinates of the vertices (cell centres sit at integers).
    const ax = (points[i] ?? 0) / cell - 0.5;
    const ay = (points[i + 1] ?? 0) / cell - 0.5;
    const bx = (points[j] ?? 0) / cell - 0.5;
    const by = (points[j + 1] ?? 0) / cell - 0.5;
    const cx = (points[k] ?? 0) / cell - 0.5;
    const cy = (points[k + 1] ?? 0) / cell - 0.5;
    // Depth towards the camera is -z.
    const az = -(points[i + 2] ?? 0);
    const bz = -(points[j + 2] ?? 0);
    const cz = -(points[k + 2] ?? 0);
    const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    if (Math.abs(area) < 1e-9) continue;
    const x0 = Math.max(0, Math.ceil(Math.min(ax, bx, cx)));
    const x1 = Math.min(width - 1, Math.floor(Math.max(ax, bx, cx)));
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by, cy)));
    const y1 = Math.min(height - 1, Math.floor(Math.max(ay, by, cy)));
    const inv = 1 / area;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const l0 = ((bx - x) * (cy - y) - (cx - x) * (by - y)) * inv;
        const l1 = ((cx - x) * (ay - y) - (ax - x) * (cy - y)) * inv;
        const l2 = 1 - l0 - l1;
        if (l0 < -1e-6 || l1 < -1e-6 || l2 < -1e-6) continue;
        const z = l0 * az + l1 * bz + l2 * cz;
        const o = y * width + x;
        if (z <= (depth[o] ?? 0)) continue;
        if (tri[o] === -1) covered++;
        depth[o] = z;
        tri[o] = t;
        w0[o] = l0;
        w1[o] = l1;
      }
    }
  }
  return { width, height, cell, tri, w0, w1, covered };
}

/** Interpolates a per-vertex unit vector (3 floats per vertex) at every covered cell and renormalises it. */
export function interpolateNormals(
  raster: MeshRaster,
  triangles: ArrayLike<number>,
  normals: Float32Array,
): Float32Array {
  const out = new Float32Array(raster.tri.length * 3);
  for (let o = 0; o < raster.tri.length; o++) {
    const t = raster.tri[o] ?? -1;
    if (t < 0) continue;
    const a = raster.w0[o] ?? 0;
    const b = raster.w1[o] ?? 0;
    const c = 1 - a - b;
    const i = (triangles[3 * t] ?? 0) * 3;
    const j = (triangles[3 * t + 1] ?? 0) * 3;
    const k = (triangles[3 * t + 2] ?? 0) * 3;
    const x = a * (normals[i] ?? 0) + b * (normals[j] ?? 0) + c * (normals[k] ?? 0);
    const y = a * (normals[i + 1] ?? 0) + b * (normals[j + 1] ?? 0) + c * (normals[k + 1] ?? 0);
    const z = a * (normals[i + 2] ?? 0) + b * (normals[j + 2] ?? 0) + c * (normals[k + 2] ?? 0);
    const len = Math.hypot(x, y, z) || 1;
    out[3 * o] = x / len;
    out[3 * o + 1] = y / len;
    out[3 * o + 2] = z / len;
  }
  return out;
}

/** Image-space bounding box of mesh points: [minX, minY, maxX, maxY]. */
export function meshBounds(points: Float32Array): [number, number, number, number] {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i + 2 < points.length; i += 3) {
    const x = points[i] ?? 0;
    const y = points[i + 1] ?? 0;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

/**
 * Separable box blur of `channels` interleaved planes on a grid, repeated `passes` times (three passes approximate
 * a Gaussian of sigma ~ radius). Edges clamp.
 */
export function boxBlur(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  radius: number,
  passes = 3,
): Float32Array {
  const r = Math.max(0, Math.round(radius));
  if (r === 0) return data;
  let src = data;
  let tmp = new Float32Array(data.length);
  const norm = 1 / (2 * r + 1);
  for (let p = 0; p < passes; p++) {
    // Horizontal: src -> tmp.
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += src[(row + Math.min(width - 1, Math.max(0, k))) * channels + c] ?? 0;
        // Clamped reads only near the row's ends; the middle steps through the row with no bounds to check.
        const inner = Math.max(0, Math.min(width, width - r - 1));
        const start = Math.min(r, inner);
        let x = 0;
        for (; x < start; x++) {
          tmp[(row + x) * channels + c] = acc * norm;
          acc += src[(row + Math.min(width - 1, x + r + 1)) * channels + c]! - src[row * channels + c]!;
        }
        for (; x < inner; x++) {
          tmp[(row + x) * channels + c] = acc * norm;
          acc += src[(row + x + r + 1) * channels + c]! - src[(row + x - r) * channels + c]!;
        }
        for (; x < width; x++) {
          tmp[(row + x) * channels + c] = acc * norm;
          const add = Math.min(width - 1, x + r + 1);
          const sub = Math.max(0, x - r);
          acc += src[(row + add) * channels + c]! - src[(row + sub) * channels + c]!;
        }
      }
    }
    // Vertical: tmp -> out, a row at a time with a running sum per column (walking down each column in turn
    // read memory a row apart and cost several times more).
    const out = src === data ? new Float32Array(data.length) : src;
    const line = width * channels;
    const acc = new Float64Array(line);
    for (let k = -r; k <= r; k++) {
      const o = Math.min(height - 1, Math.max(0, k)) * line;
      for (let i = 0; i < line; i++) acc[i]! += tmp[o + i]!;
    }
    for (let y = 0; y < height; y++) {
      const o = y * line;
      const add = Math.min(height - 1, y + r + 1) * line;
      const sub = Math.max(0, y - r) * line;
      for (let i = 0; i < line; i++) {
        out[o + i] = acc[i]! * norm;
        acc[i]! += tmp[add + i]! - tmp[sub + i]!;
      }
    }
    src = out;
    if (p === passes - 1) break;
    tmp = tmp.length === data.length ? tmp : new Float32Array(data.length);
  }
  return src;
}
