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
  var buttons = document.querySelectorAll("button.copy[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var label = button.textContent;
    var timer = 0;
    button.addEventListener("click", function () {
      clipboard.writeText(button.getAttribute("data-copy")).then(
        function () {
          // A polite live region says it (emptied first, so a second copy
          // is announced again); the button shows it for a while.
          status.textContent = "";
          setTimeout(function () {
            status.textContent = button.getAttribute("data-copied");
          }, 100);
          button.textContent = button.getAttribute("data-done");
          button.classList.add("done");
          clearTimeout(timer);
          timer = setTimeout(function () {
            button.textContent = label;
            button.classList.remove("done");
          }, 2000);
        },
        function () {
          status.textContent = button.getAttribute("data-failed");
        }
      );
    });
    button.hidden = false;
  });
})();
