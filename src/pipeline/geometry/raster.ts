/** Triangle geometry on screen coordinates (y down), shared by the head warp. */

/** Signed screen area of a triangle (positive = clockwise on a y-down screen = facing the camera here). */
export function signedArea(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
}
