// Image <-> screen transform for one canvas: zoom around a point, pan, fit.

export class Viewport {
  constructor() {
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
  }

  toImage(sx, sy) {
    return [(sx - this.tx) / this.scale, (sy - this.ty) / this.scale];
  }

  toScreen(ix, iy) {
    return [ix * this.scale + this.tx, iy * this.scale + this.ty];
  }

  fit(imgW, imgH, viewW, viewH, margin = 16) {
    const s = Math.min((viewW - 2 * margin) / imgW, (viewH - 2 * margin) / imgH);
    this.scale = s > 0 && Number.isFinite(s) ? s : 1;
    this.tx = (viewW - imgW * this.scale) / 2;
    this.ty = (viewH - imgH * this.scale) / 2;
  }

  zoomAt(sx, sy, factor) {
    const s = Math.min(64, Math.max(0.02, this.scale * factor));
    const [ix, iy] = this.toImage(sx, sy);
    this.scale = s;
    this.tx = sx - ix * s;
    this.ty = sy - iy * s;
  }

  pan(dx, dy) {
    this.tx += dx;
    this.ty += dy;
  }
}
