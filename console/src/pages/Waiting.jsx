import { listAll } from "../api.js";
import { ErrorBox, Loading, Time, arnTail, href, relative, useLoad, useTitle } from "../ui.jsx";
import { StepAction } from "./Image.jsx";

export function WaitingPage() {
  useTitle("Waiting steps");
  const { data, error, loading, reload } = useLoad(
    () => listAll("ListWaitingWorkflowSteps", { maxResults: 100 }, "steps"), [], () => 4000);
  return (
    <>
      <h1>Waiting steps</h1>
      <p class="lede">
        Builds paused at a <code>WaitForAction</code> step (ListWaitingWorkflowSteps). Resume lets the build go on;
        Stop fails the step, and the build with it unless the step continues on failure.
      </p>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="Loading waiting steps" /> : (data || []).length === 0 ? (
        <p>No build is waiting for an action.</p>
      ) : (
        <ul class="cards">
          {data.map((step) => (
            <li class="card" key={step.stepExecutionId}>
              <h2 class="card-title">
                <a href={href.step(step.imageBuildVersionArn, step.stepExecutionId)}>{step.name}</a>
                <span class="muted"> of {arnTail(step.imageBuildVersionArn)}</span>
              </h2>
              <p class="small">
                Workflow <a class="mono" href={href.workflow(step.workflowBuildVersionArn)}>{arnTail(step.workflowBuildVersionArn)}</a>
                {" · "}waiting since <Time value={step.startTime} /> ({relative(step.startTime)})
                {" · "}<a href={href.image(step.imageBuildVersionArn)}>the build</a>
              </p>
              <StepAction arn={step.imageBuildVersionArn} step={step} onDone={reload} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
