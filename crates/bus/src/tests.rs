//! Behavioural tests of the in-process bus through the public API.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::{serve, Bus, BusError, Context, InProcessBus, Incoming, Message, Target};

const WAIT: Duration = Duration::from_secs(5);

fn echo(msg: Message) -> std::future::Ready<Result<Value, String>> {
    std::future::ready(match msg.method.as_str() {
        "fail" => Err("boom".to_owned()),
        _ => Ok(json!({"method": msg.method, "args": msg.args})),
    })
}

async fn next(listener: &mut crate::Listener) -> Incoming {
    tokio::time::timeout(WAIT, listener.recv())
        .await
        .expect("message within timeout")
        .expect("listener open")
}

#[tokio::test]
async fn call_round_trip() {
    let bus = InProcessBus::new();
    serve(bus.listen("compute", "host1").await.unwrap(), echo);
    let reply = bus
        .call(
            &Target::topic("compute"),
            Message::new("ping", json!([1])),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(reply, json!({"method": "ping", "args": [1]}));
}

#[tokio::test]
async fn call_remote_error() {
    let bus = InProcessBus::new();
    serve(bus.listen("compute", "host1").await.unwrap(), echo);
    let err = bus
        .call(
            &Target::topic("compute"),
            Message::new("fail", Value::Null),
            WAIT,
        )
        .await
        .unwrap_err();
    assert_eq!(err, BusError::Remote("boom".to_owned()));
}

#[tokio::test]
async fn call_times_out_when_never_answered() {
    let bus = InProcessBus::new();
    let mut listener = bus.listen("compute", "host1").await.unwrap();
    let held = tokio::spawn(async move { next(&mut listener).await });
    let err = bus
        .call(
            &Target::topic("compute"),
            Message::new("slow", Value::Null),
            Duration::from_millis(50),
        )
        .await
        .unwrap_err();
    assert_eq!(err, BusError::Timeout);
    // Answering after the caller gave up is harmless.
    let incoming = held.await.unwrap();
    incoming
        .responder
        .unwrap()
        .reply(Ok(Value::Null))
        .await
        .unwrap();
}

#[tokio::test]
async fn call_fails_when_request_dropped() {
    let bus = InProcessBus::new();
    let mut listener = bus.listen("compute", "host1").await.unwrap();
    tokio::spawn(async move { drop(next(&mut listener).await) });
    let err = bus
        .call(
            &Target::topic("compute"),
            Message::new("x", Value::Null),
            WAIT,
        )
        .await
        .unwrap_err();
    assert_eq!(err, BusError::NoReply);
}

#[tokio::test]
async fn call_and_cast_without_consumer() {
    let bus = InProcessBus::new();
    let target = Target::topic("nobody");
    let call = bus
        .call(&target, Message::new("x", Value::Null), WAIT)
        .await;
    assert_eq!(call.unwrap_err(), BusError::NoConsumer);
    let cast = bus.cast(&target, Message::new("x", Value::Null)).await;
    assert_eq!(cast.unwrap_err(), BusError::NoConsumer);
    bus.fanout("nobody", Message::new("x", Value::Null))
        .await
        .unwrap();
}

#[tokio::test]
async fn dropped_listener_stops_receiving() {
    let bus = InProcessBus::new();
    drop(bus.listen("compute", "host1").await.unwrap());
    let cast = bus
        .cast(&Target::topic("compute"), Message::new("x", Value::Null))
        .await;
    assert_eq!(cast.unwrap_err(), BusError::NoConsumer);
}

#[tokio::test]
async fn cast_round_robins_between_listeners() {
    let bus = InProcessBus::new();
    let mut a = bus.listen("compute", "host1").await.unwrap();
    let mut b = bus.listen("compute", "host2").await.unwrap();
    for i in 0..4 {
        bus.cast(&Target::topic("compute"), Message::new("n", json!(i)))
            .await
            .unwrap();
    }
    let a_got = [next(&mut a).await, next(&mut a).await];
    let b_got = [next(&mut b).await, next(&mut b).await];
    assert_eq!(a_got.map(|m| m.message.args), [json!(0), json!(2)]);
    assert_eq!(b_got.map(|m| m.message.args), [json!(1), json!(3)]);
    assert!(a.try_recv().is_none() && b.try_recv().is_none());
}

#[tokio::test]
async fn fanout_reaches_every_listener() {
    let bus = InProcessBus::new();
    let mut a = bus.listen("scheduler", "s1").await.unwrap();
    let mut b = bus.listen("scheduler", "s2").await.unwrap();
    let mut other = bus.listen("compute", "c1").await.unwrap();
    bus.fanout("scheduler", Message::new("update", json!({"v": 1})))
        .await
        .unwrap();
    for listener in [&mut a, &mut b] {
        let incoming = next(listener).await;
        assert_eq!(incoming.message.method, "update");
        assert!(incoming.responder.is_none());
    }
    assert!(other.try_recv().is_none());
}

#[tokio::test]
async fn directed_call_reaches_only_that_server() {
    let bus = InProcessBus::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for host in ["host1", "host2"] {
        let seen = Arc::clone(&seen);
        serve(
            bus.listen("compute", host).await.unwrap(),
            move |msg: Message| {
                seen.lock().push(host);
                echo(msg)
            },
        );
    }
    let target = Target::server("compute", "host2");
    for _ in 0..3 {
        bus.call(&target, Message::new("ping", Value::Null), WAIT)
            .await
            .unwrap();
    }
    assert_eq!(*seen.lock(), ["host2"; 3]);
    let missing = bus
        .call(
            &Target::server("compute", "host3"),
            Message::new("x", Value::Null),
            WAIT,
        )
        .await;
    assert_eq!(missing.unwrap_err(), BusError::NoConsumer);
}

#[tokio::test]
async fn context_travels_with_the_message() {
    let bus = InProcessBus::new();
    serve(
        bus.listen("identity", "api").await.unwrap(),
        |msg: Message| async move { serde_json::to_value(&msg.context).map_err(|e| e.to_string()) },
    );
    let ctx = Context {
        request_id: Some("req-abc".into()),
        user_id: Some("u1".into()),
        project_id: Some("p1".into()),
        ..Context::default()
    };
    let msg = Message::new("whoami", Value::Null).with_context(ctx);
    let reply = bus
        .call(&Target::topic("identity"), msg, WAIT)
        .await
        .unwrap();
    assert_eq!(
        reply,
        json!({"request_id": "req-abc", "user_id": "u1", "project_id": "p1"})
    );
}

#[tokio::test]
async fn bus_is_usable_as_trait_object() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    serve(bus.listen("t", "s").await.unwrap(), echo);
    let reply = bus
        .call(&Target::topic("t"), Message::new("m", Value::Null), WAIT)
        .await;
    assert!(reply.is_ok());
}
