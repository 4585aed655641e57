// The page's only script: Copy buttons for the server names. The page
// works without it; the buttons stay hidden unless the Clipboard API is
// there. Inlined in the page and allowed by the CSP through its SHA-256.
(function () {
  "use strict";
  var clipboard = navigator.clipboard;
  var status = document.getElementById("copy-status");
  if (!clipboard || typeof clipboard.writeText !== "function" || !status) {
    return;
  }
  // The polite live region says `text`: emptied first and filled a moment
  // later, so the same message twice (a repeated failure) is announced
  // again; a newer message cancels an older one still waiting.
  var pending = 0;
  function say(text) {
    clearTimeout(pending);
    status.textContent = "";
    pending = setTimeout(function () {
      status.textContent = text;
    }, 100);
  }
  // Only the latest click's outcome is said: a copy that settles late
  // cannot overwrite what a newer one reported.
  var clicks = 0;
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    var timer = 0;
    button.addEventListener("click", function () {
      var click = ++clicks;
      clipboard.writeText(button.getAttribute("data-copy")).then(
        function () {
          if (click === clicks) {
            say(button.getAttribute("data-copied"));
          }
          // The button shows it for a while.
          button.textContent = button.getAttribute("data-done");
          button.classList.add("done");
          clearTimeout(timer);
          timer = setTimeout(function () {
            button.textContent = label;
            button.classList.remove("done");
          }, 2000);
        },
        function () {
          if (click === clicks) {
            say(button.getAttribute("data-failed"));
          }
        }
      );
    });
    button.hidden = false;
  });
})();
