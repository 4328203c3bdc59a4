// The signature pad of the contraceptive issue form: the recipient signs with a finger, a pen or the mouse on
// canvas[data-signature-pad]; when a stroke ends, the drawing goes as a PNG data URL into the hidden input named by
// the canvas's data-target, which the form posts. button[data-signature-clear] clears both. Served by the app (no
// CDN, no inline script). Without JavaScript the input stays empty and the signed paper's scan is uploaded instead.
(function () {
  "use strict";

  function setUp(canvas) {
    var input = document.getElementById(canvas.getAttribute("data-target"));
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;

    canvas.style.touchAction = "none"; // the finger draws instead of scrolling the page
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function at(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height,
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      var point = at(event);
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      context.beginPath();
      context.moveTo(point.x, point.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      var point = at(event);
      context.lineTo(point.x, point.y);
      context.stroke();
      drawn = true;
      event.preventDefault();
    });
    function finish() {
      if (!drawing) {
        return;
      }
      drawing = false;
      if (drawn && input) {
        input.value = canvas.toDataURL("image/png");
      }
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    var clear = document.querySelector('[data-signature-clear="' + canvas.id + '"]');
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        if (input) {
          input.value = "";
        }
      });
    }
  }

  var pads = document.querySelectorAll("canvas[data-signature-pad]");
  for (var index = 0; index < pads.length; index += 1) {
    setUp(pads[index]);
  }
})();
