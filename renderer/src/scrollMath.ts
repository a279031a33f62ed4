// Scrollbar geometry: the thumb maps to the row range, not to pixels of content.

const MIN_THUMB = 28;

/** Thumb height, its travel (track minus thumb) and its top for a given top row. */
export function thumbGeometry(trackHeight: number, topRow: number, maxTop: number, totalRows: number, visibleRows: number) {
  const ratio = totalRows > 0 ? Math.min(1, visibleRows / totalRows) : 1;
  const thumb = Math.min(trackHeight, Math.max(MIN_THUMB, Math.round(trackHeight * ratio)));
  const travel = Math.max(0, trackHeight - thumb);
  const top = maxTop > 0 ? (travel * topRow) / maxTop : 0;
  return { thumb, travel, top };
}

/** The top row for a thumb dragged to `pos` pixels down its travel. */
export function rowForThumb(pos: number, travel: number, maxTop: number): number {
  if (travel <= 0) return 0;
  return Math.round((Math.min(travel, Math.max(0, pos)) / travel) * maxTop);
}
