/*
 * Previews of files that are still on the user's computer (the builder, before upload): audio, video
 * and images from URL.createObjectURL, sensor files drawn by charts.js. Nothing leaves the browser.
 *
 *   var done = PortalPreview.show(container, file, kind);   // kind: audio|video|image|chart|"" (guessed)
 *   done();                                                  // revokes the object URL
 */
(function () {
  "use strict";

  function kindOf(file, given) {
    if (given) return given;
    var type = (file.type || "").toLowerCase();
    var name = (file.name || "").toLowerCase();
    if (type.indexOf("audio/") === 0) return "audio";
    if (type.indexOf("video/") === 0) return "video";
    if (type.indexOf("image/") === 0 && type !== "image/svg+xml") return "image";
    if (/json|csv|tab-separated/.test(type) || /\.(json|csv|tsv)$/.test(name)) return "chart";
    return "";
  }

  function show(container, file, kind) {
    kind = kindOf(file, kind);
    container.textContent = "";
    container.setAttribute("data-preview", kind || "none");
    if (kind === "audio" || kind === "video" || kind === "image") {
      var url = URL.createObjectURL(file);
      var element = document.createElement(kind === "image" ? "img" : kind);
      if (kind === "image") {
        element.alt = "Preview of " + file.name;
      } else {
        element.controls = true;
        element.preload = "metadata";
      }
      element.src = url;
      container.appendChild(element);
      return function () { URL.revokeObjectURL(url); };
    }
    if (kind === "chart" && window.PortalCharts) {
      var figure = document.createElement("figure");
      figure.className = "chart";
      container.appendChild(figure);
      if (file.size > window.PortalCharts.maxBytes) {
        figure.setAttribute("data-chart-state", "too-large");
        figure.appendChild(document.createElement("figcaption")).textContent = "too large to draw here";
        return function () {};
      }
      var canvas = document.createElement("canvas");
      canvas.width = 360;
      canvas.height = 120;
      figure.appendChild(canvas);
      file.text().then(function (text) {
        var hint = /json/.test(file.type) || /\.json$/i.test(file.name) ? "json" : "";
        window.PortalCharts.render(figure, text, hint);
      });
    }
    return function () {};
  }

  window.PortalPreview = { show: show, kindOf: kindOf };
})();
