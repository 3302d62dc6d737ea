// The brush stroke in progress, drawn on a canvas the size of the stage on the screen, not the picture's
// (issue 23). A change to the picture-sized mask canvas costs the browser a redraw that grows with the picture
// (a 4096 × 3072 canvas is 50 MB to composite again at every move, in software rendering); the stage is
// the same size whatever the picture, so a move costs the same on any photo. The stroke is laid into the mask
// once, when the pointer lifts (editor-gestures.js).

/** Stage coordinates (layout px) of picture point ``p`` under the view's translate and scale. */
export function stagePoint(p, view) {
  return { x: view.tx + p.x * view.scale, y: view.ty + p.y * view.scale };
}

/** The live stroke on ``canvas`` (inside ``stage``), in ``colour``; widths and points are picture pixels. */
export function createLiveStroke(canvas, stage) {
  const ctx = canvas.getContext("2d");
  let segments = []; // [{from, to, width}] in picture pixels, for a redraw after the view changes
  let colour = "#ff2d55";
  let density = 1; // canvas pixels per stage layout px

  function fitToStage() {
    density = window.devicePixelRatio || 1;
    canvas.width = Math.round(stage.clientWidth * density);
    canvas.height = Math.round(stage.clientHeight * density);
  }

  function draw(segment, view) {
    const from = stagePoint(segment.from, view), to = stagePoint(segment.to, view);
    const width = segment.width * view.scale * density;
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.lineWidth = width;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    if (from.x === to.x && from.y === to.y) {
      ctx.arc(to.x * density, to.y * density, width / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.moveTo(from.x * density, from.y * density);
      ctx.lineTo(to.x * density, to.y * density);
      ctx.stroke();
    }
  }

  return {
    /** A new stroke in ``strokeColour``. */
    begin(strokeColour) {
      colour = strokeColour;
      segments = [];
      fitToStage();
      canvas.hidden = false;
    },
    /** One more piece of the stroke, drawn at once. */
    segment(from, to, width, view) {
      const segment = { from, to, width };
      segments.push(segment);
      draw(segment, view);
    },
    /** The view moved (a wheel zoom mid-stroke): the stroke drawn again where the picture now is. */
    redraw(view) {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      for (const segment of segments) draw(segment, view);
    },
    /** The stroke's pieces, and the canvas emptied for the next one. */
    end() {
      const ended = segments;
      segments = [];
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      canvas.hidden = true;
      return ended;
    },
    get active() { return segments.length > 0; },
  };
}
