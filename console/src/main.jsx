import { render } from "preact";
import { App } from "./app.jsx";
import "highlight.js/styles/github.css";
import "./style.css";

render(<App />, document.getElementById("app"));
