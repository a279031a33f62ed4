// An element's clientHeight, followed through a ResizeObserver.

import { useEffect, useLayoutEffect, type RefObject } from "react";

/**
 * Calls `set` with `ref`'s element's clientHeight now and whenever it resizes. `layout`: measure
 * in a layout effect (before paint), for views that lay out rows from the height.
 */
export function useClientHeight(ref: RefObject<HTMLElement | null>, set: (height: number) => void, layout = false): void {
  (layout ? useLayoutEffect : useEffect)(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => set(el.clientHeight));
    ro.observe(el);
    set(el.clientHeight);
    return () => ro.disconnect();
  }, []);
}
