/** Plain, readable, high-contrast styles; no framework. */
export const STYLES_CSS = `
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; line-height: 1.45; }
body { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
header p { color: #444; margin-top: 0; }
section { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
h1 { margin-bottom: .25rem; } h2 { margin-top: 0; }
form { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .9rem; gap: .25rem; }
input, select, button { font: inherit; padding: .35rem .6rem; border: 1px solid #888; border-radius: 4px; }
select { max-width: 28rem; }
button { background: #0b5cad; color: #fff; border-color: #0b5cad; cursor: pointer; }
button:disabled { background: #aaa; border-color: #aaa; cursor: not-allowed; }
button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f5a623; outline-offset: 1px; }
table { border-collapse: collapse; width: 100%; margin-top: .75rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #eee; }
td.num { font-variant-numeric: tabular-nums; }
.tag { display: inline-block; background: #e8f0fa; color: #0b3d73; border-radius: 999px; padding: 0 .5rem; margin: 0 .25rem .15rem 0; font-size: .85rem; }
.race { border-top: 1px solid #ddd; margin-top: 1rem; padding-top: .75rem; }
.race h3 { margin: 0 0 .25rem; } .race .description { color: #444; margin-top: 0; }
.race .unavailable { color: #8a4b00; } .progress { min-height: 1.45em; color: #333; }
#database { font-weight: 600; }
.lab-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .75rem; margin-top: .5rem; }
.lab-card { border: 2px solid #ccc; border-radius: 8px; padding: .75rem; }
.lab-card[data-state="running"] { border-color: #0b5cad; border-style: dashed; }
.lab-card.ok { border-color: #2e7d32; } .lab-card.bad { border-color: #c62828; }
.lab-card h4 { margin: 0; font-size: 1.1rem; } .lab-card .kind { margin: 0 0 .4rem; color: #555; font-size: .85rem; }
.lab-card dl { display: grid; grid-template-columns: auto auto; gap: .15rem .75rem; margin: 0; }
.lab-card .errors { color: #8a1c1c; font-size: .85rem; overflow-wrap: anywhere; }
.lab-card dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; }
.verdict { font-weight: 600; margin-top: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
