// The "Print this referral" button: shown only when there is script to make it work (the
// content security policy forbids inline handlers); printing uses css/print.css.
for (const button of document.querySelectorAll("[data-print-page]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
