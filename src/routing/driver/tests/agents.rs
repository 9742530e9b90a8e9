//! Agent state: every change is reported once with its cause, and the login and presence
//! survive a restart (a break stays a break, a phone's re-registration changes nothing).

use super::*;

/// The `AgentChanged` events broadcast so far, as (status, previous, cause).
fn changes(
    events: &mut tokio::sync::broadcast::Receiver<AcdEvent>,
) -> Vec<(AgentStatus, AgentStatus, StateCause)> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let AcdEvent::AgentChanged {
            agent: A1,
            status,
            previous,
            cause,
        } = event
        {
            out.push((status, previous, cause));
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn every_change_of_an_agent_is_reported_once_with_its_cause() {
    use AgentStatus::{Available, Break, Busy, Offline, WrapUp};
    let store = Arc::new(MemStore::default());
    let (acd, _task) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let mut events = acd.subscribe();
    let rna = Break(ReasonCode::RING_NO_ANSWER);

    acd.agent_from(A1, FeatureAction::Login, StateCause::Registration)
        .await
        .unwrap();
    // A queued call rings the agent, unanswered: a ring-no-answer break.
    let (task, mut rx) = voice(None);
    let id = acd.enqueue(task).await.unwrap();
    assert_eq!(offered(rx.recv().await), (id, A1));
    tokio::time::sleep(Duration::from_secs(21)).await;
    // Ready through the API; the call is offered again, answered, and completed.
    acd.agent(A1, FeatureAction::Ready).await.unwrap();
    assert!(matches!(
        rx.recv().await,
        Some(TaskNotice::OfferEnded { .. })
    ));
    assert_eq!(offered(rx.recv().await), (id, A1));
    acd.offer_accepted(id, A1).await.unwrap();
    acd.completed(id).await.unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;
    // A direct call on the agent's phone.
    acd.agent_on_call(A1, true).await.unwrap();
    acd.agent_on_call(A1, false).await.unwrap();
    // A break from the phone's feature code, then the phone unregisters.
    acd.agent_from(
        A1,
        FeatureAction::Pause(ReasonCode(3)),
        StateCause::FeatureCode,
    )
    .await
    .unwrap();
    acd.agent_from(A1, FeatureAction::Logout, StateCause::Registration)
        .await
        .unwrap();

    assert_eq!(
        changes(&mut events),
        [
            (Available, Offline, StateCause::Registration),
            (Busy, Available, StateCause::Busy),
            (rna, Busy, StateCause::RingNoAnswer),
            // Ready, and offered the call at once: one change per input.
            (Busy, rna, StateCause::Api),
            (WrapUp, Busy, StateCause::WrapUp),
            (Available, WrapUp, StateCause::WrapUp),
            (Busy, Available, StateCause::Busy),
            (Available, Busy, StateCause::Busy),
            (Break(ReasonCode(3)), Available, StateCause::FeatureCode),
            (Offline, Break(ReasonCode(3)), StateCause::Registration),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_break_survives_a_restart_and_a_re_registration() {
    let store = Arc::new(MemStore::default());
    let base = tokio::time::Instant::now();
    let (acd, task) = start_at(base, store.clone()).await;
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    acd.agent(A2, FeatureAction::Login).await.unwrap();
    tokio::time::advance(Duration::from_secs(5)).await;
    acd.agent(A1, FeatureAction::Pause(ReasonCode(4)))
        .await
        .unwrap();
    acd.agent(A2, FeatureAction::Logout).await.unwrap();
    let (_, since) = acd.agent_state(A1).await.unwrap();
    assert_eq!(since, Some(START_MS as i64 + 5_000));
    // The journal writes the states on its own task.
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(acd);
    task.await.unwrap();

    tokio::time::advance(Duration::from_secs(60)).await;
    let (acd, _task) = start_at(base, store.clone()).await;
    let mut events = acd.subscribe();
    // Both phones are still registered: at start-up that logs in only agents with no state.
    for agent in [A1, A2] {
        acd.agent_from(agent, FeatureAction::Login, StateCause::Restart)
            .await
            .unwrap();
    }
    assert_eq!(
        acd.agent_state(A1).await.unwrap(),
        (
            AgentStatus::Break(ReasonCode(4)),
            Some(START_MS as i64 + 5_000)
        )
    );
    assert_eq!(acd.agent_status(A2).await.unwrap(), AgentStatus::Offline);
    // A call waits: nobody is offered it.
    let (call, mut rx) = voice(None);
    acd.enqueue(call).await.unwrap();
    // The phone registers again (a refresh, or after a reboot): the break stays.
    acd.agent_from(A1, FeatureAction::Login, StateCause::Registration)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        rx.try_recv().is_err(),
        "an agent on a break was offered a call"
    );
    assert_eq!(
        acd.agent_status(A1).await.unwrap(),
        AgentStatus::Break(ReasonCode(4))
    );
    assert!(changes(&mut events).is_empty(), "nothing changed");
    // Ready: the call is offered.
    acd.agent(A1, FeatureAction::Ready).await.unwrap();
    assert_eq!(offered(rx.recv().await).1, A1);
}
