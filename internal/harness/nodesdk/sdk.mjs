// Runs calls of a Node SDK against llmgate for the Go tests, concurrently,
// and prints what each got as JSON: {"ok":true} or the SDK's error as its
// users see it. The job is the first argument, as JSON:
//   {"sdk":"openai"|"anthropic","baseURL":…,"apiKey":…,"calls":N,"prompt":…}
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const job = JSON.parse(process.argv[2]);

function call(i) {
	const prompt = `${job.prompt} ${i}`;
	if (job.sdk === "anthropic") {
		const client = new Anthropic({ baseURL: job.baseURL, apiKey: job.apiKey });
		return client.messages.create({
			model: "claude-3-5-haiku-latest",
			max_tokens: 16,
			messages: [{ role: "user", content: prompt }],
		});
	}
	const client = new OpenAI({ baseURL: job.baseURL + "/v1", apiKey: job.apiKey });
	return client.chat.completions.create({
		model: "gpt-4o-mini",
		messages: [{ role: "user", content: prompt }],
	});
}

const results = await Promise.all(
	Array.from({ length: job.calls }, (_, i) =>
		call(i).then(
			() => ({ ok: true }),
			(err) => ({
				ok: false,
				status: err.status ?? 0,
				name: err.constructor?.name ?? "",
				message: err.message ?? String(err),
				type: err.error?.error?.type ?? err.error?.type ?? "",
				apiMessage: err.error?.error?.message ?? err.error?.message ?? "",
			}),
		),
	),
);
console.log(JSON.stringify(results));
