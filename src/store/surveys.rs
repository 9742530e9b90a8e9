//! Survey answers: the keys a caller pressed in a dialplan `survey` step, one row per
//! question, written in one transaction when the survey ends.

use sqlx::Row;

use super::{Store, StoreError};

/// One question of one survey run, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswerRow {
    /// The call (our internal call id, as in the CDR).
    pub call_id: String,
    /// The survey's name in the dialplan.
    pub survey: String,
    /// Unix milliseconds when the survey ended (the same for every row of one run).
    pub answered_at_ms: i64,
    /// The question's place in the survey, 0 first.
    pub position: i64,
    /// The question's id in the dialplan.
    pub question: String,
    /// The key pressed; `None` when no valid key was pressed in time.
    pub answer_key: Option<String>,
}

const COLUMNS: &str = "call_id, survey, answered_at_ms, position, question, answer_key";

impl Store {
    /// Stores the answers of one survey run, all or none.
    pub async fn insert_survey_answers(&self, rows: &[SurveyAnswerRow]) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for r in rows {
            sqlx::query(&format!(
                "INSERT INTO survey_answers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(&r.call_id)
            .bind(&r.survey)
            .bind(r.answered_at_ms)
            .bind(r.position)
            .bind(&r.question)
            .bind(r.answer_key.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The survey answers given on one call, in the order asked.
    pub async fn survey_answers_of_call(
        &self,
        call_id: &str,
    ) -> Result<Vec<SurveyAnswerRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM survey_answers WHERE call_id = $1 \
             ORDER BY answered_at_ms, survey, position"
        );
        let rows = sqlx::query(&sql)
            .bind(call_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_answer).collect()
    }
}

fn row_to_answer(row: &sqlx::any::AnyRow) -> Result<SurveyAnswerRow, StoreError> {
    Ok(SurveyAnswerRow {
        call_id: row.try_get(0)?,
        survey: row.try_get(1)?,
        answered_at_ms: row.try_get(2)?,
        position: row.try_get(3)?,
        question: row.try_get(4)?,
        answer_key: row.try_get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn answer(position: i64, question: &str, key: Option<&str>) -> SurveyAnswerRow {
        SurveyAnswerRow {
            call_id: "c1".into(),
            survey: "satisfaction".into(),
            answered_at_ms: 1_000,
            position,
            question: question.into(),
            answer_key: key.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn a_survey_run_is_stored_and_read_back_in_order() {
        let (store, _dir) = fresh_store().await;
        let run = [
            answer(1, "recommend", None),
            answer(0, "helpful", Some("1")),
        ];
        store.insert_survey_answers(&run).await.unwrap();
        let read = store.survey_answers_of_call("c1").await.unwrap();
        assert_eq!(read, [run[1].clone(), run[0].clone()]);
        assert!(store.survey_answers_of_call("c2").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_run_with_a_duplicate_row_stores_nothing() {
        let (store, _dir) = fresh_store().await;
        let run = [
            answer(0, "helpful", Some("1")),
            answer(0, "helpful", Some("2")),
        ];
        assert!(store.insert_survey_answers(&run).await.is_err());
        assert!(store.survey_answers_of_call("c1").await.unwrap().is_empty());
    }
}
